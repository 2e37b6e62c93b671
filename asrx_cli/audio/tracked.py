"""The audio stream with its speech found on the way, in the decoder thread.

The sender thread only sends and sleeps: the voice-activity detector runs
where the audio is read and converted (see `audio.readahead`). Speech
boundaries go to whoever reads `changes`, as `SpeechStarted` /
`SpeechEnded` messages in stream seconds.
"""

import queue
from typing import Iterable, Iterator, Optional

from asrx_cli.speech import SpeechDetector


class SpeechTracker:
    """`analysed(blocks)` passes the blocks on unchanged; `changes` is for the main thread."""

    def __init__(self, detector: Optional[SpeechDetector] = None):
        self.changes: "queue.SimpleQueue" = queue.SimpleQueue()
        self._detector = detector or SpeechDetector()

    def analysed(self, blocks: Iterable[bytes]) -> Iterator[bytes]:
        for block in blocks:
            if block:
                self._report(self._detector.feed(block))
                yield block
        self._report(self._detector.finish())

    def _report(self, changes):
        for change in changes:
            self.changes.put(change)
