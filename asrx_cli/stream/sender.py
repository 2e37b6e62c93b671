"""The sender thread: audio frames out on an absolute real-time schedule.

Frame n is due at t0 + (audio before n) / speed on the monotonic clock, so
sleeping late once never accumulates into drift. t0 is when the first frame
is ready, or, for the channels of one input (--channels split), when the
first channel's is (`SharedStart`): every channel's frame n is due at the
same time. A wake-up sends the frame
due and any due within SEND_AHEAD_SECONDS after it: at speed 1, two 32 ms
frames every 64 ms, the cadence of the documented microphone client (2048
bytes a read). After the last frame (or a stop request) the end-of-stream
step follows, whatever went wrong with the audio, so that the server still
returns what it has.

This is the timing-critical thread: it only sends and sleeps. Frames come
ready-cut from the decoder thread; what the main thread needs to know goes
to it as messages (`Sent`, `Ending`, `Finished`) through `report`.
"""

import dataclasses
import logging
import threading
import time
from typing import Callable, Iterable, Optional, Protocol

from asrx_cli.messages import Ending, Finished, Sent
from asrx_cli.wire import BYTES_PER_SECOND

log = logging.getLogger("asrx")

# The longest sleep between looks at the stop flag: a 64 ms wait is one sleep.
STOP_CHECK_SECONDS = 0.1
# A wake-up costs CPU, mostly the kernel's: half as many halve the sender's
# cost (bench/README.md, figure 2). No frame leaves more than this before its time.
SEND_AHEAD_SECONDS = 0.04
UNPACED_REPORT_SECONDS = 0.001


class StopFlag(Protocol):
    """What stops a sender: a threading.Event, or a `SessionStop`."""

    def set(self) -> None: ...

    def is_set(self) -> bool: ...


class SessionStop:
    """Stops one session's sender: when the run is stopped (Ctrl-C), or when the session ends."""

    def __init__(self, run_stop: threading.Event):
        self._run_stop = run_stop
        self._own = threading.Event()

    def set(self):
        self._own.set()

    def is_set(self) -> bool:
        return self._own.is_set() or self._run_stop.is_set()


class SharedStart:
    """One schedule for the senders of several channels: the first frame ready on any sets t0."""

    def __init__(self):
        self._lock = threading.Lock()
        self.t0: Optional[float] = None

    def __call__(self, now: float) -> float:
        """The schedule's t0, for a sender whose first frame is ready `now`."""
        with self._lock:
            if self.t0 is None:
                self.t0 = now
            return self.t0


@dataclasses.dataclass(eq=False)
class Sender:
    """Runs the sender in a thread; a context manager that re-raises the sender's error.

    `send_audio(frame)` and `end_stream()` go to the connection; `report(message)`
    hands a `Sent`, `Ending` or `Finished` message to the main thread.
    `abandon()` shuts the connection at once: called when the session is left
    early (an error, a lost session, a second Ctrl-C while the thread stops),
    it also wakes a send blocked on the socket.
    """

    frames: Iterable[bytes]
    send_audio: Callable[[bytes], None]
    end_stream: Callable[[], None]
    speed: float
    stop: StopFlag
    report: Callable[[object], None]
    abandon: Callable[[], None] = lambda: None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    # t0 for a sender whose first frame is ready at the time given; None: that time
    start: Optional[Callable[[float], float]] = None
    bytes_sent: int = dataclasses.field(default=0, init=False)
    error: Optional[BaseException] = dataclasses.field(default=None, init=False)
    # the last Sent, unpaced
    reported_at: float = dataclasses.field(default=float("-inf"), init=False)
    # frames due by then go now
    awake_until: float = dataclasses.field(default=float("-inf"), init=False)

    def __post_init__(self):
        self.thread = threading.Thread(target=self._run, name="asrx-sender", daemon=True)

    def __enter__(self) -> "Sender":
        self.thread.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop.set()
        if exc_type is not None:
            self.abandon()
        try:
            self.thread.join()
        except BaseException:  # a second Ctrl-C while the sender stops: no polite close
            self.abandon()
            raise
        if exc_type is None and self.error is not None:
            raise self.error

    def _run(self):
        try:
            self._send_all()
        except BaseException as exc:  # handed to the main thread, and raised by __exit__
            self.error = exc
        finally:
            self._finish()

    def _send_all(self):
        started = None
        for frame in self.frames:
            if started is None:  # the schedule starts with the first frame, not before its decoding
                started = self.clock() if self.start is None else self.start(self.clock())
            if self.speed > 0 and self._wait_for_turn(started + self.bytes_sent / BYTES_PER_SECOND
                                                      / self.speed):
                break
            if self.stop.is_set():
                break
            self.send_audio(frame)
            self.bytes_sent += len(frame)
            if self.speed > 0 or self._unpaced_report_due():
                self.report(Sent(self.bytes_sent / BYTES_PER_SECOND))

    def _unpaced_report_due(self) -> bool:
        """Unpaced, tens of thousands of frames leave a second: one `Sent` per
        UNPACED_REPORT_SECONDS tells the main thread as much, without a backlog of messages
        between its wake-ups."""
        now = self.clock()
        if now - self.reported_at < UNPACED_REPORT_SECONDS:
            return False
        self.reported_at = now
        return True

    def _wait_for_turn(self, due: float) -> bool:
        """Sleep until a frame's `due` time, unless the last wake-up covers it; True if a stop
        was requested meanwhile."""
        if due <= self.awake_until:
            return False
        self.awake_until = due + SEND_AHEAD_SECONDS
        return self._wait_until(due)

    def _wait_until(self, deadline: float) -> bool:
        """Sleep until `deadline`; True if a stop was requested meanwhile.

        time.sleep, not Event.wait: a wake-up costs the CPU a third less without
        the condition variable's locks. The stop flag is looked at between
        slices of at most STOP_CHECK_SECONDS.
        """
        while not self.stop.is_set():
            delay = deadline - self.clock()
            if delay <= 0:
                return False
            self.sleep(min(delay, STOP_CHECK_SECONDS))
        return True

    def _finish(self):
        seconds = self.bytes_sent / BYTES_PER_SECOND
        log.info("> audio: %.2f s", seconds)
        self.report(Ending(seconds))
        end_sent = True
        try:
            self.end_stream()
        except Exception as exc:  # the connection is gone; the receiver reports that
            end_sent = False
            if self.error is None:
                self.error = exc
        self.report(Finished(seconds, end_sent, self.clock(), self.error))
