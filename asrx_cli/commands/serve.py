"""The `asrx serve` command line.

Imports only click and the standard library at module level, so that the
client works without the server's extra; websockets and the engine are
loaded when the server starts.
"""

import click

from asrx_cli.errors import AsrxError, UsageError
from asrx_cli.options import env_option, quiet_option, verbose_option
from asrx_cli.server.engines import DEFAULT_ENGINE, engine_names
from asrx_cli.server.process import LISTENING
from asrx_cli.server.settings import Limits, ServerConfig, default_workers, url_for

DEFAULTS = Limits()
EXTRA_HINT = "asrx serve needs the server extra: pip install 'asrx[server]'"


class ApiKeyType(click.ParamType):
    """Keys from ASRX_SERVER_KEYS are separated by commas, not spaces."""

    name = "key"
    envvar_list_splitter = ","

    def convert(self, value, param, ctx):
        return str(value).strip()


class ApiKeysOption(click.Option):
    """Also takes the config file's `api_key = "k1,k2"`, not only a list."""

    def type_cast_value(self, ctx, value):
        if isinstance(value, str):
            value = value.split(",")
        return super().type_cast_value(ctx, value)


def _keys(ctx, param, values) -> frozenset:
    return frozenset(key for key in values if key)


def _check_extra_installed() -> None:
    try:
        import pocketsphinx  # noqa: F401
        import websockets.asyncio.server  # noqa: F401  (websockets >= 13)
    except ImportError:
        raise AsrxError(EXTRA_HINT) from None


SECONDS = click.FloatRange(min=0, min_open=True)

STATUS_HELP = """\b
HTTP answers to the handshake:
  401  missing, wrong or repeated apikey header
  404  a path other than /asrx (or /healthz)
  503  --max-sessions sessions are under way already, or the engine
       trails clients that send at real time by 2 s (overloaded)
\b
WebSocket close codes:
  1000  end of stream: the end marker was sent
  1001  the server is stopping
  1003  a text frame that is not a JSON object
  1008  --idle-timeout or --max-session-time reached
  1009  a message over --max-frame-bytes
  1011  the speech engine failed or did not answer in time
  1013  too many sessions (a handshake raced past the 503 check), or
        overloaded: the engine trails the session's audio by 6 s (by 3 s
        and growing: the newest session of its engine process)
"""


@click.command(epilog=STATUS_HELP)
@env_option("--host", envvar="ASRX_SERVER_HOST", default=ServerConfig.host,
            help="Address to listen on. Anything but loopback needs API keys.")
@env_option("--port", envvar="ASRX_SERVER_PORT", default=ServerConfig.port,
            type=click.IntRange(0, 65535),
            help="TCP port; 0 picks a free one (the listening line tells which).")
@env_option("--api-key", "api_key", cls=ApiKeysOption, multiple=True, type=ApiKeyType(),
            callback=_keys, envvar="ASRX_SERVER_KEYS", metavar="KEY",
            help="An API key clients must send in the apikey header; repeat for several, or give "
                 "them comma-separated in the environment variable. With none, any key is "
                 "accepted and only loopback addresses may be used.")
@env_option("--engine", envvar="ASRX_SERVER_ENGINE", default=DEFAULT_ENGINE,
            type=click.Choice(engine_names()), help="Speech engine.")
@env_option("--workers", envvar="ASRX_SERVER_WORKERS", type=click.IntRange(min=1),
            default=None, metavar="N",
            help="Engine processes, each decoding its share of the sessions. "
                 f"[default: one per CPU core, here {default_workers()}]")
@click.option("--max-sessions", default=DEFAULTS.max_sessions, show_default=True,
              type=click.IntRange(min=1), metavar="N",
              help="Sessions at once; more are refused with HTTP 503.")
@click.option("--max-frame-bytes", default=DEFAULTS.max_frame_bytes, show_default=True,
              type=click.IntRange(min=2), metavar="BYTES",
              help="Largest message a client may send; a larger one closes its session with 1009.")
@click.option("--idle-timeout", default=DEFAULTS.idle_timeout, show_default=True, type=SECONDS,
              metavar="SECONDS",
              help="Close a session (1008) that sends nothing for this long; drop a "
                   "client that reads none of its output for this long.")
@click.option("--max-session-time", default=DEFAULTS.max_session_time, show_default=True,
              type=SECONDS, metavar="SECONDS",
              help="Close a session (1008) that lasts longer than this.")
@click.option("--close-wait", default=DEFAULTS.close_wait, show_default=True,
              type=click.FloatRange(min=0), metavar="SECONDS",
              help="After the end marker, how long the client has to close before the server does.")
@click.option("--engine-timeout", default=DEFAULTS.engine_timeout, show_default=True, type=SECONDS,
              metavar="SECONDS",
              help="An engine process that has work and finishes none of it for this long is "
                   "stopped and replaced; its sessions are closed (1011).")
@click.option("--decoder-idle-time", default=DEFAULTS.decoder_idle_time, show_default=True,
              type=SECONDS, metavar="SECONDS",
              help="An engine process frees a speech decoder (PocketSphinx: about 90 MB) that no "
                   "session has used for this long, but keeps the two last used ready.")
@quiet_option("Log nothing but the listening line and errors (no session lines).")
@verbose_option
def serve(host, port, api_key, engine, workers, max_sessions, max_frame_bytes, idle_timeout,
          max_session_time, close_wait, engine_timeout, decoder_idle_time, quiet, verbose):
    """Run a local ASRX server with an offline speech engine.

    Clients connect to ws://HOST:PORT/asrx and speak the ASRX protocol:
    16 kHz mono s16le audio in binary frames, the end-of-stream JSON, and
    realtime messages back. GET /healthz answers 200 while the engine runs.
    Once listening, one line on stderr says where:
    "asrx serve: listening on ws://HOST:PORT/asrx". Ctrl-C or SIGTERM stops it.
    """
    if quiet and verbose:
        raise UsageError("--quiet and --verbose exclude each other")
    config = ServerConfig(
        host=host, port=port, api_keys=api_key, engine=engine,
        workers=min(workers or default_workers(), max_sessions),
        limits=Limits(max_frame_bytes=max_frame_bytes, max_sessions=max_sessions,
                      idle_timeout=idle_timeout, max_session_time=max_session_time,
                      close_wait=close_wait,
                      engine_timeout=engine_timeout, decoder_idle_time=decoder_idle_time),
        quiet=quiet, verbose=verbose,
    )
    config.check()
    _check_extra_installed()
    _run(config)


def _run(config: ServerConfig) -> None:
    from asrx_cli.server.app import run_server
    from asrx_cli.server.log import setup_logging

    logger = setup_logging(config.verbose, config.quiet, secrets=config.api_keys)

    def announce(server):
        # Printed even with --quiet: scripts read the port from it.
        click.echo(f"{LISTENING}{url_for(config.host, server.port)}", err=True)

    run_server(config, announce, logger)
    logger.info("stopped")
