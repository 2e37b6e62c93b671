"""Sentence times from the speech in the audio, instead of from when messages arrived.

A sentence's first words arrive after its speech began, and its final text
after its speech ended: both by the server's delay. So each sentence takes
speech segments in order: its first is the one that began it (no later than
its first words arrived), the next sentence begins after the first wide
pause before the message that closed it (a server ends a sentence on a pause), and
its end is the end of the last segment that began before its text last
changed (speech after that brought no words). A sentence for which no speech
fits keeps its arrival times and says so (`timing="arrival"`): so does one
whose speech may have begun before the lead (a server later than the lead:
sentences would otherwise slide onto the next one's speech), and an empty
one, which takes no speech. Nor does a short burst (noise, a cough) followed
by a pause and more speech before a sentence's first words came: that
sentence begins with the speech after it.
"""

import dataclasses
from typing import Dict, List, Optional

from asrx_cli.transcript.events import Event, Final, Partial
from asrx_cli.transcript.timeline import Segment, SpeechTimeline

# A server names a sentence within this much wall time of its first speech;
# speech that began earlier is not that sentence's beginning.
LEAD_SECONDS = 4.0


# A pause ends a sentence if it is at least this share of the widest pause
# in view, and at least PAUSE_FLOOR seconds.
BREAK_SHARE = 0.6
PAUSE_FLOOR = 0.3
# Unclaimed speech this long before a sentence's lead may be that sentence's: no confident match.
SKIPPED_SPEECH = 0.5
# A segment shorter than this (the detector's hangover included), then a pause, then more
# speech, all before a sentence's first words: a noise or a cough that brought no words.
BURST_SECONDS = 0.8


def lead_for_speed(speed: float) -> float:
    """The lead in audio seconds: audio sent faster than real time covers more audio in it."""
    return LEAD_SECONDS * max(speed, 1.0)


@dataclasses.dataclass(frozen=True)
class Placement:
    first: int  # index of the sentence's first segment
    last: int  # index of its last
    cut: Optional[int]  # index of the segment the next sentence begins with, if known


def first_segment(segments: List[Segment], lowest: int, first_words: float,
                  lead: float) -> Optional[int]:
    """The earliest unassigned segment that began within `lead` before the first words arrived."""
    for index in range(lowest, len(segments)):
        start = segments[index].start
        if start > first_words:
            return None
        if start >= first_words - lead:
            return index
    return None


def sentence_break(segments: List[Segment], lowest: int, closed_at: float,
                   lead: float) -> Optional[int]:
    """The segment after the first pause wide enough to end a sentence, among those from `lowest`.

    A server ends a sentence at the first pause it finds long enough, so the
    break is the first pause nearly as wide as the widest one before the
    close arrived: a late server may already have heard the pause after the
    next sentence, which can be the wider.
    """
    pauses = []
    for index in range(max(lowest, 1), len(segments)):
        start, before = segments[index].start, segments[index - 1].end
        if start > closed_at:
            break
        if before is not None and start >= closed_at - lead:
            pauses.append((index, start - before))
    if not pauses:
        return None
    wide = max(PAUSE_FLOOR, BREAK_SHARE * max(width for _, width in pauses))
    return next((index for index, width in pauses if width >= wide), None)


def last_before(segments: List[Segment], first: int, limit: int, changed: float) -> int:
    """The last segment in [first, limit] that began before the text last changed."""
    last = first
    for index in range(first, limit + 1):
        if segments[index].start <= changed:
            last = index
    return last


def place(segments: List[Segment], lowest: int, pending: Optional[int], first_words: float,
          changed: float, closed_at: float, lead: float) -> Optional[Placement]:
    """Which segments a sentence spans, or None if no speech fits it.

    `lowest`: the first segment no earlier sentence took; `pending`: the
    segment the previous sentence's close pointed at; `first_words`,
    `changed`, `closed_at`: audio positions when its first text, its last
    change and its close arrived.
    """
    first = pending if pending is not None and segments[pending].start <= first_words else None
    if first is None:
        first = first_segment(segments, lowest, first_words, lead)
        if first is None or _skips_speech(segments, lowest, first):
            return None
    while _is_burst(segments, first, first_words):
        first += 1
    cut = sentence_break(segments, first + 1, closed_at, lead)
    limit = cut - 1 if cut is not None else _last_started(segments, first, closed_at)
    return Placement(first, last_before(segments, first, limit, changed), cut)


def _is_burst(segments: List[Segment], index: int, first_words: float) -> bool:
    """A short segment, a pause, then speech that began before the first words: no words in it."""
    end = segments[index].end
    if index + 1 >= len(segments) or end is None:
        return False
    after = segments[index + 1].start
    return end - segments[index].start < BURST_SECONDS and after - end >= PAUSE_FLOOR \
        and after <= first_words


def _skips_speech(segments: List[Segment], lowest: int, first: int) -> bool:
    """Whether speech no sentence took lies between `lowest` and `first`: a late server's."""
    return any(end is None or end - start >= SKIPPED_SPEECH
               for start, end in ((s.start, s.end) for s in segments[lowest:first]))


def _last_started(segments: List[Segment], first: int, at: float) -> int:
    """The last segment from `first` on (which began before `at`) to begin before `at`."""
    return max(index for index in range(first, len(segments)) if segments[index].start <= at)


class SpeechAligner:
    """Transcript events in, the same events out with finals placed on the speech."""

    def __init__(self, timeline: SpeechTimeline, lead: float = LEAD_SECONDS):
        self.timeline = timeline
        self.lead = lead
        self._lowest = 0  # first segment no sentence has taken
        self._pending: Optional[int] = None
        self._changed: Dict[int, float] = {}  # sentence -> audio position of its last new text

    def forget(self, count: int):
        """The timeline dropped its first `count` segments: the indices held here follow."""
        self._lowest = max(self._lowest - count, 0)
        if self._pending is not None:
            self._pending = self._pending - count if self._pending >= count else None

    def open_segment(self) -> Optional[int]:
        """The first segment no final has taken: where the open sentence's speech begins at the
        earliest."""
        return self._pending if self._pending is not None else self._lowest

    def event(self, event: Event) -> Event:
        if isinstance(event, Partial):
            self._changed[event.sentence] = event.offset
        elif isinstance(event, Final):
            return self._final(event)
        return event

    def _final(self, final: Final) -> Final:
        segments = self.timeline.segments
        changed = self._changed.pop(final.sentence, final.start)
        if not final.text.strip():
            return final  # nothing was said: the speech is left to the sentences that say it
        placement = place(segments, self._lowest, self._pending, final.start, changed, final.end,
                          self.lead)
        if placement is None:
            self._pending = None
            self._lowest = self._unclaimed_from(final.start)
            return final
        self._pending = placement.cut
        self._lowest = placement.cut if placement.cut is not None else placement.last + 1
        start, end = segments[placement.first].start, segments[placement.last].end
        if end is None or end > final.end:  # the speech runs on into what follows
            end = final.end
        if end <= start:  # speech that began as the final came: not what it says
            return final
        return dataclasses.replace(final, start=start, end=end, timing="speech")

    def _unclaimed_from(self, first_words: float) -> int:
        """The first segment a later sentence may take after one placed on no speech.

        Speech that began before this sentence's lead is given up: else every
        later sentence of a late server would skip it too and fall back as well.
        """
        segments = self.timeline.segments
        lowest = self._lowest
        while lowest < len(segments) and segments[lowest].start < first_words - self.lead:
            lowest += 1
        return lowest
