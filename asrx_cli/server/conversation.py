"""One client's conversation: audio in, realtime messages out.

Every way a session can end becomes a WebSocket close code and reason for
the client and one summary line in the server's log; none of them reaches
beyond the session.

The client's messages are read whatever the engine is doing (every
READ_INTERVAL, all that came meanwhile), and its audio waits in a backlog for
the engine: a session that waited on the engine before reading again would
leave the client's pongs unread behind its audio, and websockets would blame
a busy engine on the client (1011, keepalive ping timeout). The backlog is
bounded (MOST_BACKLOG_BYTES): a client sending faster than real time is held
back by TCP. How far the engine trails a client that sends at real time
(`lag`) is what tells the server it is overloaded (see app.py).
"""

import asyncio
import json
import logging
import time
from typing import Callable, Optional, Tuple

from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from asrx_cli.server.frames import NotJson, SentenceMessages, parse_text_frame
from asrx_cli.server.log import format_peer
from asrx_cli.server.settings import Limits
from asrx_cli.server.workers import EngineFailed, EngineStream, WorkerPool
from asrx_cli.wire import BYTES_PER_SECOND, END_MARKER, is_end_of_stream

NO_CLOSE_FRAME = 1006  # as RFC 6455 reports a connection that just dropped
# Each wake-up costs CPU of its own, the more on a virtual machine whose caches go cold meanwhile
# (make bench, figure 11: a fifth less than with each frame read and batches of 0.2 s). So the
# server reads a client every READ_INTERVAL (bounded.py) and sends the engine batches of about
# 0.4 s, once one holds BATCH_BYTES or BATCH_WAIT after its first frame came: two reads of a client
# at real time, whatever the size of its frames. Partial text comes with each batch.
READ_INTERVAL = 0.2
BATCH_BYTES = 3 * BYTES_PER_SECOND // 10
BATCH_WAIT = 0.4
MOST_BACKLOG_BYTES = 10 * BYTES_PER_SECOND
# The most a batch holds when the engine is behind: one call to the engine process (workers.py),
# so that the session sees how far behind it is after each.
LARGEST_BATCH_BYTES = BYTES_PER_SECOND // 2
# A session whose engine trails its real-time audio by this much is closed with 1013: the
# server is overloaded, and its results would come too late to be of use anyway.
MOST_LAG = 6.0
LAG_WINDOW = 0.5
# A client whose audio came this much faster than real time is not waiting on the
# engine: it is ahead.
AHEAD_SLACK = 2.0


def _retrieve(task: asyncio.Task) -> None:
    """Mark a task's failure as seen: the session reports the first that ends it, and only that."""
    if not task.cancelled():
        task.exception()


class SessionEnd(Exception):
    """The server ends the session with this close code and reason."""

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Session:
    def __init__(self, connection, pool: WorkerPool, limits: Limits, logger: logging.Logger):
        self.connection = connection
        self.pool = pool
        self.limits = limits
        self.logger = logger
        self.peer = format_peer(connection.remote_address)
        self.started = time.monotonic()
        self.audio_bytes = 0
        self.decoded_bytes = 0  # of the audio, what the engine has decoded
        self.stream: Optional[EngineStream] = None  # its engine stream, once open
        # Called with the session as its audio comes, while its lag grows.
        self.on_behind: Optional[Callable[["Session"], None]] = None
        self.shed_because: Optional[str] = None  # set by the server to end this session, overloaded
        self.lag_growing = False  # over the last LAG_WINDOW
        self._lag_mark = (0.0, 0.0)  # (when, the lag then)
        self._room = asyncio.Event()  # the backlog went down
        self._backlog = bytearray()  # audio received and not taken by the decoder yet
        self._reading_done = False  # the client said its audio ended
        self._wake = asyncio.Event()  # for the decoder: a batch may be ready
        self._waiting_since: Optional[float] = None  # when the wait for the client began, if on
        self.sentences = SentenceMessages()
        self.close_code: Optional[int] = None
        self.close_reason = ""

    async def run(self) -> None:
        try:
            # The time limit holds whatever the session waits for: the client,
            # the engine, or a send to a client that does not read.
            await asyncio.wait_for(self._serve(), self.limits.max_session_time)
        except asyncio.TimeoutError:
            await self._close(
                CloseCode.POLICY_VIOLATION,
                f"session time limit of {self.limits.max_session_time:g} s reached",
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
        # Reading starts before the engine stream opens, which waits its turn in a busy engine.
        reader = asyncio.ensure_future(self._read())
        watchdog = asyncio.ensure_future(self._watch_idle())
        reader.add_done_callback(lambda _: watchdog.cancel())  # the client's part is over
        tasks = [reader, watchdog]
        for task in tasks:
            task.add_done_callback(_retrieve)
        try:
            stream = self.stream = await self.pool.open_stream()
            try:
                tasks.append(asyncio.ensure_future(self._decode(stream)))
                tasks[-1].add_done_callback(_retrieve)
                # The reader may end the session (the client failed, or it is shed) while the
                # engine decodes; the decoder ends it once the end of the stream is answered.
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    if not task.cancelled():
                        task.result()
            finally:
                stream.close()
        finally:
            for task in tasks:
                task.cancel()

    @property
    def lag(self) -> float:
        """Seconds of audio received and not decoded yet, if the client sends at real time or slower
        (0 if it is ahead: its audio waits by its own doing, or closing: it will not be decoded)."""
        if self.close_code is not None:
            return 0.0
        received = self.audio_bytes / BYTES_PER_SECOND
        if received > time.monotonic() - self.started + AHEAD_SLACK:
            return 0.0
        return (self.audio_bytes - self.decoded_bytes) / BYTES_PER_SECOND

    async def _decode(self, stream) -> None:
        while True:
            batch, ended = await self._next_batch()
            if batch:
                await self._send_hypotheses(await stream.feed(batch))
                self.decoded_bytes += len(batch)
                self._room.set()
            if ended:
                await self._send_hypotheses(await stream.finish())
                await self._send(END_MARKER)
                await self._wait_for_client_close()
                return

    async def _read(self) -> None:
        """Add the client's audio to the backlog until the end marker; end the session if it is
        shed, or its engine trails it by MOST_LAG."""
        while True:
            while self.audio_bytes - self.decoded_bytes >= MOST_BACKLOG_BYTES:
                self._room.clear()
                await self._room.wait()
            message = await self._receive()
            if isinstance(message, bytes):
                self.audio_bytes += len(message)
                self._backlog += message
                # The decoder looks at the first audio of a batch, and at a full batch.
                if len(self._backlog) == len(message) or len(self._backlog) >= BATCH_BYTES:
                    self._wake.set()
                self._check_pace()
            elif self._is_end_of_stream(message):
                self._reading_done = True
                self._wake.set()
                return

    def _check_pace(self) -> None:
        if self.stream is None or self.stream.worker.stalled:
            return  # not open yet, or stuck rather than slow: the engine's watchdog ends it (1011)
        lag, now = self.lag, time.monotonic()
        if now >= self._lag_mark[0] + LAG_WINDOW:
            self.lag_growing, self._lag_mark = lag > self._lag_mark[1], (now, lag)
        if lag >= MOST_LAG:
            self.shed_because = f"server overloaded: the speech engine is {lag:.1f} s behind"
        elif self.on_behind is not None and self.lag_growing:
            self.on_behind(self)  # the server may shed another session, or this one
        if self.shed_because is not None:
            raise SessionEnd(CloseCode.TRY_AGAIN_LATER, self.shed_because)

    async def _next_batch(self) -> Tuple[bytes, bool]:
        """(audio to decode, whether the reading is over): what came within BATCH_WAIT of its first
        frame, or BATCH_BYTES of it, or all that waits (more, when the engine is behind) up to
        LARGEST_BATCH_BYTES. One wait per batch, not per frame: the event loop's time is the
        server's, shared by every session."""
        due = None
        while not self._reading_done and len(self._backlog) < BATCH_BYTES:
            self._wake.clear()
            if not self._backlog:
                await self._wake.wait()
                continue
            due = due or time.monotonic() + BATCH_WAIT
            try:
                await asyncio.wait_for(self._wake.wait(), max(0.0, due - time.monotonic()))
            except asyncio.TimeoutError:
                break
        batch = bytes(self._backlog[:LARGEST_BATCH_BYTES])
        del self._backlog[:LARGEST_BATCH_BYTES]
        return batch, self._reading_done and not self._backlog

    def _is_end_of_stream(self, text: str) -> bool:
        self.logger.debug("%s: < %s", self.peer, text)
        try:
            message = parse_text_frame(text)
        except NotJson as error:
            raise SessionEnd(CloseCode.UNSUPPORTED_DATA, str(error)) from None
        # Other JSON messages are none of ours: ignored, as docs/protocol.md asks of clients.
        return is_end_of_stream(message)

    async def _receive(self):
        """The client's next message (_watch_idle times the wait)."""
        self._waiting_since = time.monotonic()
        try:
            return await self.connection.recv()
        finally:
            self._waiting_since = None

    async def _watch_idle(self) -> None:
        """End the session once the client has kept the server waiting for idle_timeout. One timer
        per timeout, not per message."""
        timeout = self.limits.idle_timeout
        while True:
            since = self._waiting_since
            remaining = timeout if since is None else since + timeout - time.monotonic()
            if remaining <= 0:
                raise SessionEnd(CloseCode.POLICY_VIOLATION,
                                 f"idle timeout: nothing received for {timeout:g} s")
            await asyncio.sleep(remaining)

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
            self.close_code = NO_CLOSE_FRAME
            self.close_reason = "end of stream, then the client vanished"
        except asyncio.TimeoutError:
            await self._close(CloseCode.NORMAL_CLOSURE, "end of stream")

    async def _ignore_until_closed(self) -> None:
        async for _ in self.connection:
            pass

    async def _close(self, code: int, reason: str) -> None:
        self.close_code, self.close_reason = int(code), reason
        await self.connection.close(code, reason)

    def _note_closed(self, closed: ConnectionClosed) -> None:
        if closed.sent is not None and (closed.rcvd is None or not closed.rcvd_then_sent):
            # The server closed first: e.g. the websockets library's own size limit or keepalive.
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
