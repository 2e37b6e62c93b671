"""The WebSocket server: handshake checks, sessions, start and stop.

`run_server` is what `asrx serve` runs; `ServerThread` runs the same server
in a background thread of another program (tests, demos, embedding).
"""

import asyncio
import functools
import hmac
import http
import json
import logging
import signal
import threading
import time
from typing import Callable, List, Optional, Set
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, serve
from websockets.frames import CloseCode

from asrx_cli.errors import AsrxError
from asrx_cli.server.bounded import BoundedConnection
from asrx_cli.server.conversation import READ_INTERVAL, Session
from asrx_cli.server.log import LOGGER_NAME, format_peer, os_error_text
from asrx_cli.server.settings import HEALTH_PATH, PATH, ServerConfig, url_for
from asrx_cli.server.workers import EngineFailed, WorkerPool
from asrx_cli.wire import API_KEY_HEADER

# How long a closing handshake may take: a vanished client would otherwise
# hold up Ctrl-C by websockets' default of 10 s.
CLOSE_TIMEOUT = 3.0
# On stopping, how long sessions have to end before the clients are dropped
# and the engines stopped under them: a closing handshake with a client that
# reads takes milliseconds, and so does a healthy engine's answer.
SESSIONS_STOP_TIMEOUT = 1.0
# Overload, measured: how far the engine trails the audio of a client that sends at real time
# (Session.lag). From BEHIND_LAG on, new sessions are refused with 503; from SHED_LAG on, the
# newest session of that engine process is closed with 1013, one every SHED_INTERVAL while the
# lag still grows, so that the older ones catch up (a session trailing by session.MOST_LAG goes in
# any case). Once it stops growing the backlog drains: shedding until it has would close sessions
# the engine could keep.
BEHIND_LAG = 2.0
SHED_LAG = 3.0
SHED_INTERVAL = 0.5


def key_refusal(offered: List[str], keys: frozenset) -> Optional[str]:
    """Why the handshake's apikey headers are refused, or None when they are not."""
    if len(offered) > 1:
        return "more than one apikey header"  # which one counts would be anyone's guess
    if not keys:
        return None  # no keys configured: loopback only, anyone may use it
    if not offered or not offered[0]:
        return "missing apikey header"
    # Compare every key in constant time, so timing tells nothing about any.
    matches = [hmac.compare_digest(offered[0].encode(), key.encode()) for key in keys]
    return None if any(matches) else "wrong API key"


class AsrxServer:
    def __init__(self, config: ServerConfig, logger: Optional[logging.Logger] = None):
        self.config = config
        self.logger = logger or logging.getLogger(LOGGER_NAME)
        self.pool = WorkerPool(config.engine, config.workers, config.limits.engine_timeout,
                               config.limits.decoder_idle_time)
        self.sessions: Set[Session] = set()
        self._server: Optional[Server] = None
        self._next_shed = 0.0

    @property
    def port(self) -> int:
        assert self._server is not None, "the server is not started"
        return self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return url_for(self.config.host, self.port)

    async def start(self) -> None:
        # Bind first: a port in use is reported before the engine loads.
        config = self.config
        try:
            self._server = await serve(
                self._handle,
                config.host,
                config.port,
                process_request=self._process_request,
                create_connection=functools.partial(  # type: ignore[arg-type] # a factory does
                    BoundedConnection, stall_timeout=config.limits.idle_timeout,
                    read_interval=READ_INTERVAL),
                max_size=config.limits.max_frame_bytes,
                logger=logging.getLogger("websockets.server"),
                server_header=None,
                # PCM hardly compresses, and inflating every frame costs the event loop.
                compression=None,
                close_timeout=CLOSE_TIMEOUT,
                ping_interval=config.limits.keepalive,
                ping_timeout=config.limits.keepalive,
                start_serving=False,
            )
        except OSError as error:
            where = f"{self.config.host}:{self.config.port}"
            raise AsrxError(f"cannot listen on {where}: {os_error_text(error)}") from None
        try:
            await self.pool.start()
        except BaseException as error:
            self._server.close()
            await self._server.wait_closed()
            if isinstance(error, EngineFailed):
                raise AsrxError(str(error)) from None
            raise
        await self._server.start_serving()

    async def stop(self) -> None:
        """Close the sessions with 1001 (going away), then stop the engines.

        Bounded whatever clients and engines do: after SESSIONS_STOP_TIMEOUT,
        clients that have not completed the closing handshake are dropped,
        and the engines are stopped under sessions still waiting on them.
        """
        if self._server is not None:
            self._server.close(reason="server stopping")
            closed = asyncio.ensure_future(self._server.wait_closed())
            await asyncio.wait({closed}, timeout=SESSIONS_STOP_TIMEOUT)
            for session in list(self.sessions):
                session.connection.drop("server stopping")
        await self.pool.stop()
        if self._server is not None:
            await closed

    def _process_request(self, connection, request):
        path = urlsplit(request.path).path
        peer = format_peer(connection.remote_address)
        if path == HEALTH_PATH:
            return self._health(connection)
        if path != PATH:
            return connection.respond(http.HTTPStatus.NOT_FOUND,
                                      f"Not found: the ASRX endpoint is {PATH}\n")
        why = key_refusal(request.headers.get_all(API_KEY_HEADER), self.config.api_keys)
        if why is not None:
            self.logger.info("%s: refused with 401 (%s)", peer, why)
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, f"Unauthorized: {why}\n")
        if len(self.sessions) >= self.config.limits.max_sessions:
            self.logger.info("%s: refused with 503 (%d sessions already)", peer, len(self.sessions))
            return self._busy(connection, f"{len(self.sessions)} sessions under way, "
                                          "the most this server takes")
        lag = max((session.lag for session in self.sessions), default=0.0)
        if lag >= BEHIND_LAG:
            self.logger.info("%s: refused with 503 (the engine %.1f s behind)", peer, lag)
            return self._busy(connection, f"the speech engine is {lag:.1f} s behind real time")
        return None  # go on with the WebSocket handshake

    @staticmethod
    def _busy(connection, why: str):
        response = connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, f"Busy: {why}\n")
        response.headers["Retry-After"] = "1"
        return response

    def _behind(self, session: Session) -> None:
        """As `session`'s audio comes, while its lag grows: shed the newest session of its engine
        process if it trails real time by SHED_LAG."""
        lag, now = session.lag, time.monotonic()
        if lag < SHED_LAG or now < self._next_shed or session.stream is None:
            return
        sharing = [other for other in self.sessions if other.shed_because is None
                   and other.stream is not None and other.stream.worker is session.stream.worker]
        if sharing:
            self._next_shed = now + SHED_INTERVAL
            newest = max(sharing, key=lambda other: other.started)
            newest.shed_because = f"server overloaded: the speech engine is {lag:.1f} s behind"
            self.logger.warning("%s: shed, the engine %.1f s behind real time", newest.peer, lag)

    def _health(self, connection):
        healthy = self.pool.alive
        body = json.dumps({
            "status": "ok" if healthy else "engine down",
            "engine": self.config.engine,
            "sessions": len(self.sessions),
            "max_sessions": self.config.limits.max_sessions,
        }) + "\n"
        status = http.HTTPStatus.OK if healthy else http.HTTPStatus.SERVICE_UNAVAILABLE
        response = connection.respond(status, body)
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "application/json"
        return response

    async def _handle(self, connection) -> None:
        session = Session(connection, self.pool, self.config.limits, self.logger)
        session.on_behind = self._behind
        if len(self.sessions) >= self.config.limits.max_sessions:
            # Two handshakes passed the 503 check at once; the later one goes.
            await session.refuse(CloseCode.TRY_AGAIN_LATER, "server busy: too many sessions")
            return
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)


async def serve_until(
    config: ServerConfig,
    stop: asyncio.Event,
    on_listening: Callable[[AsrxServer], None],
    logger: Optional[logging.Logger] = None,
) -> None:
    server = AsrxServer(config, logger)
    await server.start()
    try:
        on_listening(server)
        await stop.wait()
    finally:
        await server.stop()


def run_server(config: ServerConfig, on_listening: Callable[[AsrxServer], None],
               logger=None) -> None:
    """Serve until SIGINT or SIGTERM, then stop in order."""

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signal_number, stop.set)
            except NotImplementedError:  # Windows: a plain handler, which only sets the event
                signal.signal(signal_number, lambda *_: loop.call_soon_threadsafe(stop.set))
        await serve_until(config, stop, on_listening, logger)

    asyncio.run(main())


class ServerThread:
    """The server in a background thread, on a port the caller learns.

        with ServerThread(ServerConfig(port=0)) as server:
            connect(server.url) ...

    The engine processes are started by multiprocessing's "spawn", which
    imports the program's main module in each: its top-level code belongs
    under `if __name__ == "__main__":`, as multiprocessing asks.
    """

    def __init__(self, config: ServerConfig, logger: Optional[logging.Logger] = None):
        self.config = config
        self.logger = logger
        self.server: Optional[AsrxServer] = None
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stop: Optional[asyncio.Event] = None
        self._thread = threading.Thread(target=self._run, name="asrx-serve", daemon=True)

    @property
    def port(self) -> int:
        assert self.server is not None, "the server is not started"
        return self.server.port

    @property
    def url(self) -> str:
        assert self.server is not None, "the server is not started"
        return self.server.url

    def start(self, timeout: float = 120.0) -> "ServerThread":
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("asrx server did not start in time")
        if self._error is not None:
            raise self._error
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # handed to the thread that called start()
            self._error = error
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = stop = asyncio.Event()
        await serve_until(self.config, stop, self._listening, self.logger)

    def _listening(self, server: AsrxServer) -> None:
        self.server = server
        self._ready.set()
