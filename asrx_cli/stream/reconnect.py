"""When a session is lost: whether to try again, when, and from where in the audio.

The decisions are pure functions; `Reconnector` acts on them for the
session (asrx_cli/stream/session.py): it tells the user, waits and connects again.

- A close code that says the client sent what the server cannot take is
  final (FINAL_CLOSE_CODES): the same audio would meet the same answer. Every
  other loss (a dropped connection, 1001 going away, 1006, 1008 a limit such
  as idleness or session length, 1011, 1012, 1013, a failed or stalled send)
  is retried. A refused key is never retried (that is an AuthError).
- Retries back off exponentially with full jitter: attempt n waits a random
  time in [0, min(MAX_DELAY, base * 2^(n-1))]. The count starts again once a
  session has lasted HEALTHY_SECONDS.
- The replay point is the start of the speech no final sentence has taken
  (the speech detector's segments, asrx_cli/transcript/timeline.py), a little before its
  onset, never before the end of the last final's speech.
"""

import dataclasses
import logging
import random
from typing import Callable, Optional

from asrx_cli.config import TranscribeConfig
from asrx_cli.errors import ConnectionFailed
from asrx_cli.stream.interrupt import InterruptFlag
from asrx_cli.transcript.align import SpeechAligner
from asrx_cli.transcript.events import Final
from asrx_cli.transcript.timeline import SpeechTimeline

log = logging.getLogger("asrx")

# 1002 protocol error, 1003 unsupported data, 1007 invalid payload, 1009 message
# too big, 1010 missing extension: asrx's fault, and sending again cannot help.
FINAL_CLOSE_CODES = frozenset({1002, 1003, 1007, 1009, 1010})
MAX_DELAY = 30.0
HEALTHY_SECONDS = 30.0  # a session this long resets the count of attempts
IDLE_SECONDS = 0.5  # a server's close after this long without audio sent is for idleness
PRE_ROLL = 0.3  # seconds replayed before a speech onset: the detector hears a word late


@dataclasses.dataclass(frozen=True)
class Lost:
    """A session that ended while audio remained."""

    cause: str  # for the user: "close 1011", "connection lost", "send failed: broken pipe"
    seconds: float  # audio sent, in seconds of the input
    code: Optional[int] = None  # the close code, if one came
    idle: bool = False  # closed by the server while no audio went out: no fault, no attempt counted


def lost_by_close(closed, seconds: float, idle_for: float) -> Lost:
    """A session the server closed (`closed`: connection.Closed) after `seconds` of audio, `idle_for` after the last."""
    return Lost(f"close {closed.code}" if closed.code else "connection lost", seconds, closed.code,
                idle=closed.code is not None and idle_for >= IDLE_SECONDS)


def retriable(code: Optional[int]) -> bool:
    return code not in FINAL_CLOSE_CODES


class Retries:
    """Counts attempts in a row and draws the delay before each."""

    def __init__(self, limit: int, base: float, draw: Callable[[float, float], float] = random.uniform):
        self.limit = limit
        self.base = base
        self.draw = draw
        self.attempt = 0

    def session_lasted(self, seconds: float):
        if seconds >= HEALTHY_SECONDS:
            self.attempt = 0

    def next_delay(self) -> Optional[float]:
        """The delay before the next attempt, or None when no attempt is left."""
        if self.attempt >= self.limit:
            return None
        self.attempt += 1
        return self.draw(0.0, min(MAX_DELAY, self.base * 2 ** (self.attempt - 1)))


def replay_point(timeline: SpeechTimeline, aligner: SpeechAligner, last_final: Optional[Final],
                 sent: float) -> float:
    """Where the next session's audio starts, in seconds of the input (at most `sent`)."""
    floor = _done_until(timeline, last_final)
    index = aligner.open_segment()
    segments = timeline.segments
    while index < len(segments) and segments[index].end is not None and segments[index].end <= floor:
        index += 1  # speech a final already covers
    if index >= len(segments):
        return min(max(floor, sent - PRE_ROLL), sent)  # no speech to say again
    start = segments[index].start - PRE_ROLL
    if index > 0 and segments[index - 1].end is not None:
        start = max(start, segments[index - 1].end)
    return max(0.0, min(max(start, floor), sent))


def _done_until(timeline: SpeechTimeline, last_final: Optional[Final]) -> float:
    """The input up to here belongs to sentences already final."""
    if last_final is None:
        return 0.0
    if last_final.timing == "speech":
        return last_final.end
    # Arrival times: the final came when the next sentence had begun, so its speech began before.
    start = timeline.speech_start_before(last_final.end)
    return min(start, last_final.end) if start is not None else last_final.end


def session_speed(config: TranscribeConfig, catching_up: bool) -> float:
    """After a reconnect a live input has a backlog: it goes out at --catch-up until live again."""
    if catching_up and config.is_live:
        return max(config.effective_speed, config.catch_up)
    return config.effective_speed


def lost_message(lost: Lost) -> str:
    return f"connection lost after {lost.seconds:.1f} s of audio ({lost.cause})"


def reconnect_record(attempt: int, limit: int, lost: Lost, delay: float, replay_from: float) -> dict:
    """The --json event of a reconnect."""
    return {"type": "reconnect", "attempt": attempt, "retries": limit, "cause": lost.cause,
            "code": lost.code, "position": round(lost.seconds, 3), "replay_from": round(replay_from, 3),
            "delay": round(delay, 3)}


class Reconnector:
    """After a lost session: a warning, the backoff, a new connection; or the error that ends the run."""

    def __init__(self, config: TranscribeConfig, renderer, interrupt: InterruptFlag, connect: Callable):
        self.retries = Retries(config.retries, config.retry_delay)
        self.renderer = renderer
        self.interrupt = interrupt
        self.connect = connect

    def reconnect(self, lost: Lost, replay_from: float, lasted: float):
        """A new connection; `lasted`: how long the lost session ran, in seconds."""
        self.retries.session_lasted(lasted)
        if lost.idle:
            log.info("%s while the input was idle; a new session with the new audio", lost_message(lost))
            self.renderer.record(reconnect_record(0, self.retries.limit, lost, 0.0, replay_from))
            connection, lost = self._attempt(lost, replay_from)
            if connection is not None:
                return connection
        while True:
            delay = self.retries.next_delay()
            if delay is None:
                raise ConnectionFailed(f"{lost_message(lost)}; gave up after {self.retries.limit} "
                                       "attempts to reconnect")
            attempt, limit = self.retries.attempt, self.retries.limit
            log.warning("%s; reconnecting in %.1f s, attempt %d/%d", lost_message(lost), delay, attempt, limit)
            self.renderer.record(reconnect_record(attempt, limit, lost, delay, replay_from))
            if self.interrupt.stop.wait(delay):
                raise self.interrupt.stopped(lost.seconds)
            connection, lost = self._attempt(lost, replay_from)
            if connection is not None:
                return connection

    def _attempt(self, lost: Lost, replay_from: float):
        """(a new connection, None) or (None, what was lost, with why connecting failed)."""
        try:
            connection = self.connect()
        except ConnectionFailed as exc:
            log.info("reconnecting failed: %s", exc.message)
            return None, dataclasses.replace(lost, cause=exc.message, code=None, idle=False)
        log.info("reconnected; the audio goes on from %.2f s", replay_from)
        return connection, lost
