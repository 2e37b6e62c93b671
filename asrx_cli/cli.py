"""The command line: parse, build a config, delegate.

Heavy modules (numpy, soundfile, websocket-client, the server) are imported
inside the commands so that `asrx --help` starts fast.
"""

import importlib
import os
import sys
from typing import Optional, TextIO

import click

from asrx_cli.apikey import exposed_key_warning
from asrx_cli.config import config_path, load_default_map
from asrx_cli.environment import Environment
from asrx_cli.errors import EXIT_STATUS_HELP, AsrxError, ExitStatus, OutputClosed, OutputFailed
from asrx_cli.versions import version_option


class AsrxGroup(click.Group):
    """Loads subcommands on demand and maps errors to exit statuses."""

    lazy_commands = {
        "transcribe": ("asrx_cli.commands.transcribe", "transcribe"),
        "serve": ("asrx_cli.commands.serve", "serve"),
        "devices": ("asrx_cli.commands.devices", "devices"),
        "login": ("asrx_cli.commands.login", "login"),
        "logout": ("asrx_cli.commands.login", "logout"),
        "completion": ("asrx_cli.commands.completion", "completion"),
    }

    def list_commands(self, ctx):
        return sorted(self.lazy_commands)

    def get_command(self, ctx, name):
        if name not in self.lazy_commands:
            return None
        module_name, attribute = self.lazy_commands[name]
        return getattr(importlib.import_module(module_name), attribute)

    def main(  # type: ignore[override]  # click's overloads, and the run's Environment besides
            self, args=None, prog_name=None, standalone_mode=True,
            env: Optional[Environment] = None, **extra):
        """`env` is the run's streams, decided here once unless a caller (a test) gives its own."""
        env = env or Environment.from_system()
        status = run_guarded(lambda: super(AsrxGroup, self).main(
            args=args, prog_name=prog_name or "asrx", standalone_mode=False, obj=env, **extra
        ), env.stderr)
        if standalone_mode:
            sys.exit(status)
        return status


def run_guarded(invoke, stderr: TextIO) -> int:
    """The one place where errors become a line on stderr and an exit status."""
    try:
        result = invoke()
    except click.ClickException as exc:
        exc.show(file=stderr)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except OutputClosed:
        _silence_stdout()
        return ExitStatus.PIPE_CLOSED
    except AsrxError as exc:
        if isinstance(exc, OutputFailed):
            _silence_stdout()  # what stdout could not take is not tried again at exit
        click.echo(f"asrx: {exc.label}{exc.message}", file=stderr)
        return exc.exit_status
    except (KeyboardInterrupt, click.Abort):
        click.echo("asrx: interrupted", file=stderr)
        return ExitStatus.INTERRUPTED
    except Exception as exc:  # a bug: one line, and the traceback on request
        if os.environ.get("ASRX_DEBUG"):
            raise
        click.echo(f"asrx: internal error: {type(exc).__name__}: {exc} "
                   "(set ASRX_DEBUG=1 for details)", file=stderr)
        return ExitStatus.ERROR
    return result if isinstance(result, int) else ExitStatus.SUCCESS


def _silence_stdout():
    # The reader is gone or the disk is full: make the interpreter's final
    # flush of stdout a no-op instead of an error report.
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
@version_option
@click.pass_context
def cli(ctx):
    """Real-time speech recognition over the ASRX WebSocket protocol.

    Settings come from the command line, then ASRX_* environment variables,
    then the config file ($ASRX_CONFIG, else $XDG_CONFIG_HOME/asrx/config.toml,
    else ~/.config/asrx/config.toml), then built-in defaults.
    """
    ctx.default_map = load_default_map()
    warning = exposed_key_warning(config_path(), ctx.default_map)
    if warning:
        click.echo(warning, file=ctx.find_object(Environment).stderr)


main = cli
