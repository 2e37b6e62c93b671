"""Where speech is in the audio sent so far, as the main thread knows it.

`SpeechTimeline` keeps the boundaries the voice-activity detector found
(asrx_cli/audio/vad.py) as a list of segments and answers where speech is.
It belongs to the thread that reads the server's messages and is fed through
a queue of `SpeechStarted` and `SpeechEnded` messages.
"""

import bisect
import dataclasses
import queue
from typing import List, Optional

from asrx_cli.messages import SpeechChange, SpeechStarted, waiting

FORGET_BATCH = 256  # old segments are dropped this many or more at once: seldom, and cheaply


@dataclasses.dataclass
class Segment:
    start: float
    end: Optional[float] = None  # None while the speech goes on


class SpeechTimeline:
    """The speech segments found so far, in order, and questions about them.

    Times are seconds of audio from the start of the stream: the same scale
    as the offsets of transcript events (audio sent when a message arrived).
    """

    def __init__(self):
        self.segments: List[Segment] = []
        self._starts: List[float] = []

    def apply(self, change: SpeechChange):
        if isinstance(change, SpeechStarted):
            self.segments.append(Segment(change.at))
            self._starts.append(change.at)
        elif self.segments and self.segments[-1].end is None:
            self.segments[-1].end = change.at

    def drain(self, changes: "queue.SimpleQueue[SpeechChange]") -> None:
        """Apply every change waiting in the queue, without blocking."""
        for change in waiting(changes):
            self.apply(change)  # type: ignore[arg-type]  # the queue holds only changes

    def forget_before(self, horizon: float) -> int:
        """Drop the segments over before `horizon`, FORGET_BATCH or more at a time; how many
        went."""
        count = bisect.bisect_left(self._starts, horizon) - 1  # each ended when the next began
        if count < FORGET_BATCH:
            return 0
        del self.segments[:count], self._starts[:count]
        return count

    def index_at(self, t: float) -> Optional[int]:
        """The segment that contains `t`, else the last one that ended before it."""
        index = bisect.bisect_right(self._starts, t) - 1
        return index if index >= 0 else None

    def segment_at(self, t: float) -> Optional[Segment]:
        index = self.index_at(t)
        return None if index is None else self.segments[index]

    def speech_start_before(self, t: float) -> Optional[float]:
        """The onset of the speech that contains or precedes `t`."""
        segment = self.segment_at(t)
        return None if segment is None else segment.start
