"""`asrx --version`: the lines a bug report needs."""

import platform
from importlib import metadata

import soundfile

from asrx_cli import __version__
from tests.support.run import run_cli


def test_version_names_asrx_python_and_the_libraries():
    result = run_cli(["--version"])
    assert (result.exit_code, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        f"asrx {__version__}",
        f"Python {platform.python_version()} ({platform.python_implementation()}, "
        f"{platform.system()} {platform.machine()})",
        f"libsndfile {soundfile.__libsndfile_version__}",
        f"websocket-client {metadata.version('websocket-client')}",
    ]
    assert len(lines) == 5 and lines[4].startswith("PortAudio ")


def test_short_version_option_is_the_same():
    assert run_cli(["-V"]).stdout == run_cli(["--version"]).stdout
