"""`asrx --version`: asrx's version and those of what it runs on, the lines a bug report needs."""

import platform
from importlib import metadata
from typing import List

import click

from asrx_cli import __version__


def version_lines() -> List[str]:
    return [
        f"asrx {__version__}",
        f"Python {platform.python_version()} ({platform.python_implementation()}, "
        f"{platform.system()} {platform.machine()})",
        f"libsndfile {_libsndfile()}",
        f"websocket-client {_distribution('websocket-client')}",
        f"PortAudio {_portaudio()}",
    ]


def _distribution(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _libsndfile() -> str:
    try:
        import soundfile
    except (ImportError, OSError):  # the package, or the library it loads, is missing
        return "not found"
    return soundfile.__libsndfile_version__


def _portaudio() -> str:
    try:
        import sounddevice
    except (ImportError, OSError):  # only --mic and `asrx devices` need it
        return "not found (needed by --mic and asrx devices)"
    text = sounddevice.get_portaudio_version()[1]
    return text[len("PortAudio "):] if text.startswith("PortAudio ") else text


def _print_versions(ctx: click.Context, _param, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo("\n".join(version_lines()))
    ctx.exit()


version_option = click.option(
    "-V", "--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_versions,
    help="Show the version of asrx and of Python, libsndfile, websocket-client and PortAudio, "
         "and exit.",
)
