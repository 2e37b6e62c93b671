"""Speech found in the audio as it is read, before it goes to the sender.

`SpeechTracker.analyse(blocks)` wraps a source's blocks: each block passes
through the voice-activity detector on its way, in whichever thread iterates
it (the decoder thread, asrx_cli/audio/readahead.py: never the sender's).
Speech boundaries go to whoever reads `changes`, as `SpeechStarted` /
`SpeechEnded` messages in seconds from the start of the stream.
"""

import queue
from typing import Iterable, Iterator, Optional

from asrx_cli.audio.vad import SpeechDetector


class SpeechTracker:
    def __init__(self, detector: Optional[SpeechDetector] = None):
        self.changes: "queue.SimpleQueue" = queue.SimpleQueue()
        self._detector = detector or SpeechDetector()

    def analyse(self, blocks: Iterable[bytes]) -> Iterator[bytes]:
        """The same blocks, in order, once the detector has heard each."""
        for block in blocks:
            self._report(self._detector.feed(block))
            yield block
        self._report(self._detector.finish())

    def _report(self, changes):
        for change in changes:
            self.changes.put(change)
