"""The sender thread: audio frames out on an absolute real-time schedule.

Frame n leaves at t0 + (audio before n) / speed on the monotonic clock, so
sleeping late once never accumulates into drift. After the last frame (or a
stop request) the end-of-stream message follows, whatever went wrong with the
audio, so that the server still returns what it has.
"""

import logging
import threading
import time
from typing import Callable, Iterable, Iterator, Optional

from asrx_cli.errors import AudioError
from asrx_cli.wire import BYTES_PER_SECOND, END_OF_STREAM

log = logging.getLogger("asrx")

STOP_CHECK_SECONDS = 0.05  # the longest sleep before the sender looks at the stop flag again


def rechunk(blocks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Cut blocks of any length into frames of `size` bytes; the last may be shorter."""
    buffer = bytearray()
    failure = None
    try:
        for block in blocks:
            if not buffer and len(block) == size:
                yield bytes(block)
                continue
            buffer += block
            whole = len(buffer) - len(buffer) % size
            for start in range(0, whole, size):
                yield bytes(buffer[start:start + size])
            del buffer[:whole]
    except AudioError as exc:  # truncated audio: what was read before still goes out
        failure = exc
    if buffer:
        yield bytes(buffer)
    if failure is not None:
        raise failure


class Pacer:
    """Runs the sender in a thread; a context manager that re-raises the sender's error.

    `send_audio(frame)` and `send_end(message)` go to the connection;
    `on_progress(seconds)` reports audio seconds sent so far.
    """

    def __init__(self, blocks: Iterable[bytes], send_audio: Callable[[bytes], None],
                 send_end: Callable[[dict], None], chunk_bytes: int, speed: float,
                 stop: threading.Event, on_progress: Optional[Callable[[float], None]] = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.blocks = blocks
        self.send_audio = send_audio
        self.send_end = send_end
        self.chunk_bytes = chunk_bytes
        self.speed = speed
        self.stop = stop
        self.on_progress = on_progress
        self.clock = clock
        self.sleep = sleep
        self.bytes_sent = 0
        self.frames_sent = 0
        self.end_sent = False  # the end-of-stream message went out
        self.finished_at: Optional[float] = None  # clock time when the sender stopped
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._run, name="asrx-pacer", daemon=True)

    @property
    def seconds_sent(self) -> float:
        return self.bytes_sent / BYTES_PER_SECOND

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def __enter__(self) -> "Pacer":
        self.thread.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop.set()
        self.thread.join()
        if exc_type is None and self.error is not None:
            raise self.error

    def _run(self):
        try:
            self._send_all()
        except BaseException as exc:  # handed to the main thread by __exit__
            self.error = exc
        finally:
            self._finish()

    def _send_all(self):
        started = None
        for frame in rechunk(self.blocks, self.chunk_bytes):
            if started is None:  # the schedule starts with the first frame, not before its decoding
                started = self.clock()
            if self.speed > 0 and self._wait_until(started + self.seconds_sent / self.speed):
                break
            if self.stop.is_set():
                break
            self.send_audio(frame)
            self.bytes_sent += len(frame)
            self.frames_sent += 1
            if self.on_progress is not None:
                self.on_progress(self.seconds_sent)

    def _wait_until(self, deadline: float) -> bool:
        """Sleep until `deadline`; True if a stop was requested meanwhile.

        time.sleep, not Event.wait: 31 wake-ups a second, and each costs the
        CPU a third less without the condition variable's locks. The stop flag
        is looked at between slices of at most STOP_CHECK_SECONDS.
        """
        while not self.stop.is_set():
            delay = deadline - self.clock()
            if delay <= 0:
                return False
            self.sleep(min(delay, STOP_CHECK_SECONDS))
        return True

    def _finish(self):
        log.info("> audio: %d frames, %.2f s", self.frames_sent, self.seconds_sent)
        self.end_sent = True  # before sending: the server may answer before send() returns
        try:
            self.send_end(END_OF_STREAM)
        except Exception as exc:  # the connection is gone; the receiver reports that
            self.end_sent = False
            if self.error is None:
                self.error = exc
        self.finished_at = self.clock()
