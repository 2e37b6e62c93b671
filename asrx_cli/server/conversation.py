"""One client's conversation: audio in, realtime messages out.

Every way a session can end becomes a WebSocket close code and reason for
the client and one summary line in the server's log; none of them reaches
beyond the session.
"""

import asyncio
import json
import logging
import time

from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from asrx_cli.server.frames import NotJson, SentenceMessages, parse_text_frame
from asrx_cli.server.log import format_peer
from asrx_cli.server.settings import Limits
from asrx_cli.server.workers import EngineFailed, WorkerPool
from asrx_cli.wire import BYTES_PER_SECOND, END_MARKER, is_end_of_stream

NO_CLOSE_FRAME = 1006  # as RFC 6455 reports a connection that just dropped
# Audio goes to the engine in batches of a tenth of a second, not frame by
# frame: each call to an engine process costs a round trip between processes
# whatever the audio it brings, and 31 calls a second (1024-byte frames) cost
# about a seventh of the server's CPU with one stream. A batch goes once it
# holds BATCH_BYTES, or BATCH_WAIT after its first frame came.
BATCH_BYTES = BYTES_PER_SECOND // 10
BATCH_WAIT = 0.1


class SessionEnd(Exception):
    """The server ends the session with this close code and reason."""

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _seconds(value: float) -> str:
    return f"{value:g} s"


class Session:
    def __init__(self, connection, pool: WorkerPool, limits: Limits, logger: logging.Logger):
        self.connection = connection
        self.pool = pool
        self.limits = limits
        self.logger = logger
        self.peer = format_peer(connection.remote_address)
        self.started = time.monotonic()
        self.audio_bytes = 0
        self.sentences = SentenceMessages()
        self.close_code = None
        self.close_reason = ""

    async def run(self) -> None:
        try:
            # The time limit holds whatever the session waits for: the client,
            # the engine, or a send to a client that does not read.
            await asyncio.wait_for(self._serve(), self.limits.max_session_time)
        except asyncio.TimeoutError:
            await self._close(
                CloseCode.POLICY_VIOLATION,
                f"session time limit of {_seconds(self.limits.max_session_time)} reached",
            )
        except SessionEnd as end:
            await self._close(end.code, end.reason)
        except ConnectionClosed as closed:
            self._note_closed(closed)
        except EngineFailed as failure:
            self.logger.warning("%s: speech engine failed: %s", self.peer, failure)
            await self._close(CloseCode.INTERNAL_ERROR, "speech engine failed")
        finally:
            self._log_summary()

    async def refuse(self, code: int, reason: str) -> None:
        await self._close(code, reason)
        self._log_summary()

    async def _serve(self) -> None:
        stream = await self.pool.open_stream()
        try:
            await self._converse(stream)
        finally:
            stream.close()

    async def _converse(self, stream) -> None:
        batch, due = bytearray(), None
        while True:
            message = await self._receive(due)
            if isinstance(message, bytes):
                self.audio_bytes += len(message)
                batch += message
                due = due or time.monotonic() + BATCH_WAIT
            ending = isinstance(message, str) and self._is_end_of_stream(message)
            if batch and (message is None or ending or len(batch) >= BATCH_BYTES):
                await self._send_hypotheses(await stream.feed(bytes(batch)))
                batch, due = bytearray(), None
            if ending:
                await self._send_hypotheses(await stream.finish())
                await self._send(END_MARKER)
                await self._wait_for_client_close()
                return

    def _is_end_of_stream(self, text: str) -> bool:
        self.logger.debug("%s: < %s", self.peer, text)
        try:
            message = parse_text_frame(text)
        except NotJson as error:
            raise SessionEnd(CloseCode.UNSUPPORTED_DATA, str(error)) from None
        # Other JSON messages are none of ours: ignored, as docs/protocol.md asks of clients.
        return is_end_of_stream(message)

    async def _receive(self, due=None):
        """The client's next message; None if none came by `due` (a monotonic time)."""
        timeout = self.limits.idle_timeout if due is None else min(self.limits.idle_timeout,
                                                                   max(0.0, due - time.monotonic()))
        try:
            # websockets' recv() may be cancelled without losing a message.
            return await asyncio.wait_for(self.connection.recv(), timeout)
        except asyncio.TimeoutError:
            if due is not None:
                return None
            raise SessionEnd(
                CloseCode.POLICY_VIOLATION,
                f"idle timeout: nothing received for {_seconds(self.limits.idle_timeout)}",
            ) from None

    async def _send_hypotheses(self, hypotheses) -> None:
        for message in self.sentences.messages(hypotheses):
            await self._send(message)

    async def _send(self, message: dict) -> None:
        text = json.dumps(message, ensure_ascii=False)
        self.logger.debug("%s: > %s", self.peer, text)
        await self.connection.send(text)

    async def _wait_for_client_close(self) -> None:
        """The client closes once it has the end marker; if not, we do."""
        try:
            await asyncio.wait_for(self._ignore_until_closed(), self.limits.close_wait)
            self.close_code, self.close_reason = self.connection.close_code, "end of stream"
        except ConnectionClosed:
            self.close_code, self.close_reason = NO_CLOSE_FRAME, "end of stream, then the client vanished"
        except asyncio.TimeoutError:
            await self._close(CloseCode.NORMAL_CLOSURE, "end of stream")

    async def _ignore_until_closed(self) -> None:
        async for _ in self.connection:
            pass

    async def _close(self, code: int, reason: str) -> None:
        self.close_code, self.close_reason = int(code), reason
        await self.connection.close(code, reason)

    def _note_closed(self, closed: ConnectionClosed) -> None:
        server_first = closed.sent is not None and (closed.rcvd is None or not closed.rcvd_then_sent)
        if server_first:  # e.g. the websockets library's own size limit or keepalive
            self.close_code, self.close_reason = closed.sent.code, closed.sent.reason
        elif closed.rcvd is not None:
            said = f": {closed.rcvd.reason}" if closed.rcvd.reason else ""
            self.close_code, self.close_reason = closed.rcvd.code, "closed by the client" + said
        else:
            dropped = self.connection.dropped_because
            self.close_code, self.close_reason = NO_CLOSE_FRAME, dropped or "the client vanished"

    def _log_summary(self) -> None:
        sentences = self.sentences.sentences
        self.logger.info(
            "%s: %.1f s, %.1f s of audio, %d sentence%s, closed %s (%s)",
            self.peer,
            time.monotonic() - self.started,
            self.audio_bytes / BYTES_PER_SECOND,
            sentences,
            "" if sentences == 1 else "s",
            self.close_code,
            self.close_reason,
        )
