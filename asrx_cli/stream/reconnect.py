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
  session has moved the replay point on by PROGRESS_SECONDS; a session that
  only sent again what was sent before, however long, does not.
- A server that turns a session away for now (HTTP 503 or 429 at the
  handshake, `ServerBusy`), the first session's too, is asked again with the
  same backoff, waiting at least what its Retry-After asks, up to
  MAX_RETRY_AFTER.
- The replay point is where the audio of the last final sentence ends, at
  the earliest (`replay_point`): every sentence the server may still have
  been working on goes again. The speech detector (asrx_cli/transcript/timeline.py)
  only moves it where it agrees with the server.
"""

import dataclasses
import logging
import random
from typing import Callable, Optional

from asrx_cli.config import TranscribeConfig
from asrx_cli.errors import ConnectionFailed, ServerBusy
from asrx_cli.stream.interrupt import InterruptFlag
from asrx_cli.transcript.events import Final
from asrx_cli.transcript.timeline import SpeechTimeline

log = logging.getLogger("asrx")

# 1002 protocol error, 1003 unsupported data, 1007 invalid payload, 1009 message
# too big, 1010 missing extension: asrx's fault, and sending again cannot help.
FINAL_CLOSE_CODES = frozenset({1002, 1003, 1007, 1009, 1010})
MAX_DELAY = 30.0
MAX_RETRY_AFTER = 60.0  # a server's Retry-After longer than this is waited this long
IDLE_SECONDS = 0.5  # a server's close after this long without audio sent is for idleness
# A server's text for words comes at most this long (wall time) after they were spoken.
LATE_SECONDS = 1.5
PROGRESS_SECONDS = 1.0  # a session that moves the replay point this far: attempts counted anew


@dataclasses.dataclass(frozen=True)
class Lost:
    """A session that ended while audio remained."""

    cause: str  # for the user: "close 1011", "connection lost", "send failed: broken pipe"
    seconds: float  # audio sent, in seconds of the input
    code: Optional[int] = None  # the close code, if one came
    idle: bool = False  # closed by the server while no audio went out: no fault, no attempt counted


def lost_by_close(closed, seconds: float, idle_for: float) -> Lost:
    """A session the server closed (`closed`: connection.Closed) after `seconds` of audio,
    `idle_for` after the last."""
    return Lost(f"close {closed.code}" if closed.code else "connection lost", seconds, closed.code,
                idle=closed.code is not None and idle_for >= IDLE_SECONDS)


def retriable(code: Optional[int]) -> bool:
    return code not in FINAL_CLOSE_CODES


class Retries:
    """Counts attempts in a row and draws the delay before each."""

    def __init__(self, limit: int, base: float,
                 draw: Callable[[float, float], float] = random.uniform):
        self.limit = limit
        self.base = base
        self.draw = draw
        self.attempt = 0

    def progressed(self, seconds: float):
        """A session moved the replay point on by `seconds` of audio."""
        if seconds >= PROGRESS_SECONDS:
            self.attempt = 0

    def reset(self):
        self.attempt = 0

    def next_delay(self) -> Optional[float]:
        """The delay before the next attempt, or None when no attempt is left."""
        if self.attempt >= self.limit:
            return None
        self.attempt += 1
        return self.draw(0.0, min(MAX_DELAY, self.base * 2 ** (self.attempt - 1)))


@dataclasses.dataclass(frozen=True)
class Said:
    """What the server's messages tell of the sentences, in seconds of the input."""

    last_final: Optional[Final] = None  # the last sentence printed as final
    final_heard: Optional[float] = None  # when its text last changed: its words all heard by then
    late: float = LATE_SECONDS  # how far the server's text may trail the audio, in seconds of audio
    open_since: Optional[float] = None  # when the open sentence's first words came, if any came


def replay_point(timeline: SpeechTimeline, said: Said, sent: float) -> float:
    """Where the next session's audio starts, in seconds of the input (at most `sent`).

    Every sentence the server may still have been working on is sent again:
    the replay starts where the audio of the last final sentence ends, at the
    earliest the server's messages allow (`sentence_end`). The speech
    detector only moves that point later where it agrees with the server; an
    open sentence the detector did not hear, or no speech after the point,
    changes nothing: the replay starts there.
    """
    return max(0.0, min(sentence_end(timeline, said), sent))


def sentence_end(timeline: SpeechTimeline, said: Said) -> float:
    """Where the last final sentence's audio ends; the next sentence's audio starts no earlier.

    Its words were all heard by the time its text last changed, at most
    `late` after they were spoken. The detector's end of its speech is taken
    where the detector agrees with the server: a real pause (not speech cut
    where the final came), and, if the next sentence has sent words, the onset
    of its speech heard between that pause and its first words.
    """
    final = said.last_final
    if final is None:
        return 0.0
    heard = said.final_heard if said.final_heard is not None else final.end
    earliest = max(heard - said.late, min(final.start, heard))
    if final.timing == "speech" and _agrees(timeline, final.end, said.open_since):
        return max(final.end, earliest)
    return earliest


def _agrees(timeline: SpeechTimeline, end: float, open_since: Optional[float]) -> bool:
    """Whether the detector's speech ended at `end`, and the next speech it heard began in time
    to be the open sentence's."""
    index = timeline.index_at(end)
    if index is None or timeline.segments[index].end != end:
        return False  # `end` cuts through speech: the detector ran one sentence into the next
    if open_since is None:
        return True
    following = timeline.segments[index + 1:index + 2]
    return bool(following) and following[0].start <= open_since


def busy_delay(drawn: float, asked: Optional[float]) -> float:
    """The wait before an attempt: the backoff's draw, or the server's Retry-After if longer,
    up to MAX_RETRY_AFTER (a server asking for hours is not waited on for hours)."""
    if asked is None:
        return drawn
    return max(drawn, min(asked, MAX_RETRY_AFTER))


def late_for(speed: float, audio_seconds: float, wall_seconds: float) -> float:
    """How far the server's text may trail the audio, in seconds of audio at the pace it went."""
    pace = max(speed, audio_seconds / wall_seconds if wall_seconds > 0 else 0.0, 1.0)
    return LATE_SECONDS * pace


def session_speed(config: TranscribeConfig, catching_up: bool) -> float:
    """After a reconnect a live input has a backlog: it goes out at --catch-up until live again."""
    if catching_up and config.is_live:
        return max(config.effective_speed, config.catch_up)
    return config.effective_speed


def lost_message(lost: Lost) -> str:
    return f"connection lost after {lost.seconds:.1f} s of audio ({lost.cause})"


def reconnect_record(attempt: int, limit: int, lost: Lost, delay: float,
                     replay_from: float) -> dict:
    """The --json event of a reconnect."""
    return {"type": "reconnect", "attempt": attempt, "retries": limit, "cause": lost.cause,
            "code": lost.code, "position": round(lost.seconds, 3),
            "replay_from": round(replay_from, 3), "delay": round(delay, 3)}


class Reconnector:
    """After a lost session: a warning, the backoff, a new connection; or the error that ends the
    run."""

    def __init__(self, config: TranscribeConfig, renderer, interrupt: InterruptFlag,
                 connect: Callable):
        self.retries = Retries(config.retries, config.retry_delay)
        self.renderer = renderer
        self.interrupt = interrupt
        self.connect = connect
        self.asked: Optional[float] = None  # the wait the last refusal's Retry-After asked for

    def first_connection(self):
        """The first session's connection; a server busy for now is asked again."""
        while True:
            try:
                connection = self.connect()
                self.retries.reset()  # the reconnects have attempts of their own
                return connection
            except ServerBusy as busy:
                if self.retries.limit == 0:
                    raise
                self.asked = busy.retry_after
                delay = self._next_delay()
                if delay is None:
                    raise ConnectionFailed(f"{busy.message}; gave up after {self.retries.limit} "
                                           "attempts to connect") from None
                log.warning("%s; connecting again in %.1f s, attempt %d/%d", busy.message, delay,
                            self.retries.attempt, self.retries.limit)
                if self.interrupt.stop.wait(delay):
                    raise self.interrupt.stopped(0.0) from None

    def reconnect(self, lost: Lost, replay_from: float, progress: float):
        """A new connection; `progress`: how far the lost session moved the replay point on."""
        self.retries.progressed(progress)
        self.asked = None
        if lost.idle:
            log.info("%s while the input was idle; a new session with the new audio",
                     lost_message(lost))
            self.renderer.record(reconnect_record(0, self.retries.limit, lost, 0.0, replay_from))
            connection, lost = self._attempt(lost, replay_from)
            if connection is not None:
                return connection
        while True:
            delay = self._next_delay()
            if delay is None:
                raise ConnectionFailed(f"{lost_message(lost)}; gave up after {self.retries.limit} "
                                       "attempts to reconnect")
            attempt, limit = self.retries.attempt, self.retries.limit
            log.warning("%s; reconnecting in %.1f s, attempt %d/%d", lost_message(lost), delay,
                        attempt, limit)
            self.renderer.record(reconnect_record(attempt, limit, lost, delay, replay_from))
            if self.interrupt.stop.wait(delay):
                raise self.interrupt.stopped(lost.seconds)
            connection, lost = self._attempt(lost, replay_from)
            if connection is not None:
                return connection

    def _next_delay(self) -> Optional[float]:
        """The backoff's delay, or what the server's Retry-After asked if longer (capped)."""
        delay = self.retries.next_delay()
        if delay is None:
            return None
        if self.asked is not None and self.asked > MAX_RETRY_AFTER:
            log.warning("the server asks to wait %.0f s (Retry-After); asrx waits %.0f s at most",
                        self.asked, MAX_RETRY_AFTER)
        return busy_delay(delay, self.asked)

    def _attempt(self, lost: Lost, replay_from: float):
        """(a new connection, None) or (None, what was lost, with why connecting failed)."""
        try:
            connection = self.connect()
        except ConnectionFailed as exc:
            self.asked = exc.retry_after if isinstance(exc, ServerBusy) else None
            log.info("reconnecting failed: %s", exc.message)
            return None, dataclasses.replace(lost, cause=exc.message, code=None, idle=False)
        log.info("reconnected; the audio goes on from %.2f s", replay_from)
        return connection, lost
