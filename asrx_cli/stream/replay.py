"""Where each new session starts, across the sessions of a run.

The replay point itself comes from what the server said and what the
detector heard (`reconnect.replay_point`). Two things make a run go on
where replaying cannot help, by cutting the open sentence at the drop (its
text so far printed as final, the next session starting where the lost one
stopped), with a warning:

- a sentence that cannot be finished before the next drop: the lost session
  was itself a replay from the same point, went as far as the furthest
  before it but not a second (PROGRESS_SECONDS) further, and brought words
  of an open sentence but no final; sending it again would only be lost
  again (a replay that went further, while the server had yet to say the
  sentence was over, goes again: the attempts are counted meanwhile);
- a sentence that began before the audio kept to send again (--max-buffer).

A point that never moves on is no progress: the count of attempts starts
again only when it does (`reconnect.Retries.progressed`).
"""

import dataclasses
import logging
from typing import Optional

from asrx_cli.stream.reconnect import PROGRESS_SECONDS, Said, replay_point
from asrx_cli.transcript.events import Event, Final, Partial
from asrx_cli.transcript.timeline import SpeechTimeline

log = logging.getLogger("asrx")

# Sent again, the open sentence's first words come back about where they came the first time.
ECHO_MARGIN = 0.25


@dataclasses.dataclass(frozen=True)
class Replay:
    start: float  # seconds of the input the next session starts at
    progress: float  # how far the replay point moved on since the lost session began
    cut: bool  # the open sentence ends at the drop
    # A sentence of the next session whose first words come before this is one already final.
    echo_before: Optional[float] = None


class ReplayPlanner:
    """Follows the transcript's events; at a lost session, plans the next one's start."""

    def __init__(self):
        self.last_final: Optional[Final] = None  # the last sentence printed as final
        self._changed: Optional[float] = None  # when the open sentence's text last changed
        self._final_heard: Optional[float] = None  # when the last final's text last changed
        self._started = 0.0  # where the current session's audio starts
        self._replayed = False  # the current session sends again what a lost one sent
        self._reach = 0.0  # the furthest audio any session before the current one sent
        self._floor = 0.0  # a cut: no replay starts before it

    def event(self, event: Event):
        if isinstance(event, Partial):
            self._changed = event.offset
        elif isinstance(event, Final):
            self.last_final, self._final_heard = event, self._changed
            self._changed = None

    def plan(self, timeline: SpeechTimeline, sent: float, kept_from: float, late: float,
             open_since: Optional[float]) -> Replay:
        """The next session's start, after a session lost at `sent`; `kept_from`: the oldest audio
        kept to send again; `open_since`: when the open sentence's first words came, if any."""
        said = Said(self.last_final, self._final_heard, late, open_since)
        start = max(replay_point(timeline, said, sent), self._floor)
        # Only a sentence under way proves one too long: a replay the server said nothing of yet (a
        # fast pipe runs ahead of its answers) is sent again, not thrown away. A replay that got
        # further than any before gave the server more of it, and goes again.
        stuck = (open_since is not None and self._replayed and start <= self._started
                 and self._reach <= sent < self._reach + PROGRESS_SECONDS)
        too_old = start < kept_from and open_since is not None
        if stuck or too_old:
            self._cut(open_since, sent, "goes on past what one connection lasts" if stuck
                      else "began before the audio --max-buffer keeps to send again")
            start = self._floor = sent
        start = max(start, kept_from)  # no sentence under way there: the oldest audio kept
        progress = start - self._started
        self._reach = max(self._reach, sent)
        cut = stuck or too_old
        self._started, self._replayed = start, not cut  # after a cut, the audio goes on new
        return Replay(start, progress, cut, None if cut else self._echo_before(start, open_since))

    def _echo_before(self, start: float, open_since: Optional[float]) -> Optional[float]:
        """Before when a sentence of the next session begins for it to be one already final.

        With no sentence final, none can be said again. Otherwise the replay may
        start inside the last final's audio: the server says its end again as a
        sentence, whose first words come soon after `start`, where the open
        sentence's come about `open_since` again. How soon either comes varies
        with the load on the server and the client, by more at a faster pace:
        the line between them is drawn halfway.
        """
        if self.last_final is None or open_since is None:
            return None
        return min((start + open_since) / 2, open_since - ECHO_MARGIN)

    @staticmethod
    def _cut(open_since: Optional[float], sent: float, why: str):
        if open_since is None:
            return  # no sentence under way: nothing is cut
        log.warning("the sentence open since %.1f s %s: it is cut at %.1f s, and words spoken just "
                    "before the cut may be missing", open_since, why, sent)
