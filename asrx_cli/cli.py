"""The command line: parse, build a config, delegate.

Heavy modules (numpy, soundfile, websocket-client, the server) are imported
inside the commands so that `asrx --help` starts fast.
"""

import importlib
import os
import sys

import click

from asrx_cli import __version__
from asrx_cli.config import DEFAULT_URL, RawFormat, TranscribeConfig, load_default_map
from asrx_cli.errors import AsrxError, ExitStatus, OutputClosed
from asrx_cli.options import quiet_option, verbose_option

RAW_SAMPLE_FORMATS = ("s16le", "s16be", "s24le", "s32le", "f32le", "f64le", "u8", "s8")
OUTPUT_FORMATS = ("text", "json", "raw")

EXIT_STATUS_HELP = """\b
Exit status:
  0    success
  1    internal error
  2    usage or configuration error
  3    unreadable, invalid, empty or truncated audio
  4    the server refused the API key
  5    connection, TLS or protocol failure (incl. no end marker in time)
  130  interrupted (Ctrl-C)
  141  stdout was closed by its reader (as with SIGPIPE)
"""


class AsrxGroup(click.Group):
    """Loads subcommands on demand and maps errors to exit statuses."""

    lazy_commands = {
        "transcribe": ("asrx_cli.cli", "transcribe"),
        "serve": ("asrx_cli.commands.serve", "serve"),
    }

    def list_commands(self, ctx):
        return sorted(self.lazy_commands)

    def get_command(self, ctx, name):
        if name not in self.lazy_commands:
            return None
        module_name, attribute = self.lazy_commands[name]
        return getattr(importlib.import_module(module_name), attribute)

    def main(self, args=None, prog_name=None, standalone_mode=True, **extra):
        status = run_guarded(lambda: super(AsrxGroup, self).main(
            args=args, prog_name=prog_name or "asrx", standalone_mode=False, **extra
        ))
        if standalone_mode:
            sys.exit(status)
        return status


def run_guarded(invoke) -> int:
    """The one place where errors become a line on stderr and an exit status."""
    try:
        result = invoke()
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except OutputClosed:
        _silence_stdout()
        return ExitStatus.PIPE_CLOSED
    except AsrxError as exc:
        click.echo(f"asrx: {exc.label}{exc.message}", err=True)
        return exc.exit_status
    except (KeyboardInterrupt, click.Abort):
        click.echo("asrx: interrupted", err=True)
        return ExitStatus.INTERRUPTED
    except Exception as exc:  # a bug: one line, and the traceback on request
        if os.environ.get("ASRX_DEBUG"):
            raise
        click.echo(f"asrx: internal error: {type(exc).__name__}: {exc} (set ASRX_DEBUG=1 for details)",
                   err=True)
        return ExitStatus.ERROR
    return result if isinstance(result, int) else ExitStatus.SUCCESS


def _silence_stdout():
    # The reader is gone: make the interpreter's final flush of stdout a no-op
    # instead of a BrokenPipeError report.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


@click.group(
    cls=AsrxGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_STATUS_HELP,
)
@click.version_option(__version__, "-V", "--version", prog_name="asrx")
@click.pass_context
def cli(ctx):
    """Real-time speech recognition over the ASRX WebSocket protocol.

    Settings come from the command line, then ASRX_* environment variables,
    then the config file ($ASRX_CONFIG, else $XDG_CONFIG_HOME/asrx/config.toml,
    else ~/.config/asrx/config.toml), then built-in defaults.
    """
    ctx.default_map = load_default_map()


main = cli


@click.command(epilog=EXIT_STATUS_HELP)
@click.argument("audio", metavar="AUDIO")
@click.option("--url", envvar="ASRX_URL", show_envvar=True, default=DEFAULT_URL, show_default=True,
              help="WebSocket URL of the ASRX server.")
@click.option("--api-key", envvar="ASRX_API_KEY", show_envvar=True, metavar="KEY",
              help="API key sent in the apikey header. Prefer the environment variable or the "
                   "config file: a command line is visible to other users.")
@click.option("--ca-file", envvar="ASRX_CA_FILE", show_envvar=True, metavar="PEM",
              type=click.Path(exists=True, dir_okay=False),
              help="Also trust the CA certificates in this PEM file for wss:// URLs.")
@click.option("--speed", envvar="ASRX_SPEED", show_envvar=True, type=click.FloatRange(min=0),
              metavar="X", help="Send audio at X times real time; 0 sends as fast as possible. "
                                "[default: 1 for files, 0 for stdin]")
@click.option("--chunk-ms", envvar="ASRX_CHUNK_MS", show_envvar=True, default=32, show_default=True,
              type=click.IntRange(1, 10000), metavar="MS", help="Audio sent per WebSocket frame.")
@click.option("--raw-rate", type=click.IntRange(min=1), default=16000, show_default=True,
              metavar="HZ", help="Sample rate of headerless input (.pcm, .raw, stdin).")
@click.option("--raw-channels", type=click.IntRange(1, 64), default=1, show_default=True,
              metavar="N", help="Channels of headerless input.")
@click.option("--raw-format", type=click.Choice(RAW_SAMPLE_FORMATS), default="s16le",
              show_default=True, help="Sample format of headerless input.")
@click.option("--format", "output_format", type=click.Choice(OUTPUT_FORMATS), default="text",
              show_default=True, help="text: one line per sentence; json: JSON Lines events; "
                                      "raw: the server's frames as they came.")
@click.option("--json", "json_output", is_flag=True, help="Same as --format json.")
@click.option("--partials/--no-partials", default=True, show_default=True,
              help="Show partial hypotheses (live line on a terminal, events in JSON).")
@click.option("-o", "--output", "output_path", metavar="FILE",
              help="Write the transcript to FILE instead of stdout.")
@click.option("--final-timeout", envvar="ASRX_FINAL_TIMEOUT", show_envvar=True, default=10.0,
              show_default=True, type=click.FloatRange(min=0), metavar="SECONDS",
              help="How long to wait for the end marker after the audio is sent.")
@click.option("--connect-timeout", envvar="ASRX_CONNECT_TIMEOUT", show_envvar=True, default=10.0,
              show_default=True, type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="How long to wait for the connection and handshake.")
@quiet_option()
@verbose_option
@click.pass_context
def transcribe(ctx, **options):
    """Stream AUDIO to the server and print the transcript as it comes.

    AUDIO is any file libsndfile reads (WAV, FLAC, OGG, Opus, MP3, AIFF...),
    a headerless .pcm/.raw file, or - for stdin (headerless PCM, or WAV as
    arecord writes it). Audio is converted to 16 kHz mono s16le on the way.
    """
    config = build_transcribe_config(ctx, options)
    # asrx does no linear algebra: one OpenBLAS thread instead of one per core
    # makes importing numpy (below) faster and spares the CPU its threads spin.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from asrx_cli.environment import Environment
    from asrx_cli.transcribe import run_transcription

    return run_transcription(config, Environment.from_system())


def build_transcribe_config(ctx, options) -> TranscribeConfig:
    raw_params = ("raw_rate", "raw_channels", "raw_format")
    raw_given = any(
        ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        for name in raw_params
    )
    if options["quiet"] and options["verbose"]:
        raise click.UsageError("--quiet and --verbose exclude each other")
    if options["json_output"] and options["output_format"] not in ("text", "json"):
        raise click.UsageError(f"--json and --format {options['output_format']} exclude each other")
    return TranscribeConfig(
        audio=options["audio"],
        url=options["url"],
        api_key=options["api_key"] or None,
        ca_file=options["ca_file"],
        speed=options["speed"],
        chunk_ms=options["chunk_ms"],
        raw_format=RawFormat(options["raw_rate"], options["raw_channels"], options["raw_format"]),
        raw_format_given=raw_given,
        output_format="json" if options["json_output"] else options["output_format"],
        partials=options["partials"],
        output_path=options["output_path"],
        quiet=options["quiet"],
        verbose=options["verbose"],
        final_timeout=options["final_timeout"],
        connect_timeout=options["connect_timeout"],
    )
