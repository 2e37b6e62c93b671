"""The audio stream, read and converted ahead of the sender, with its speech found on the way.

The sender thread only sends and sleeps: reading, converting and the
voice-activity detector run in a thread of their own, a few blocks ahead.
Blocks go to the sender in order (errors of the source too, where they
happened); speech boundaries go to whoever reads `changes`, as
`SpeechStarted` / `SpeechEnded` messages in stream seconds.
"""

import queue
from typing import Iterator

from asrx_cli.audio.readahead import ReadAhead
from asrx_cli.speech import SpeechDetector

TRACK_AHEAD_BLOCKS = 4


class SpeechTracker:
    """A context manager: `blocks` for the sender, `changes` for the main thread."""

    def __init__(self, blocks: Iterator[bytes], detector: SpeechDetector = None):
        self.changes: "queue.Queue" = queue.Queue()
        self._source = iter(blocks)
        self._detector = detector or SpeechDetector()
        self._ahead = None

    def __enter__(self) -> "SpeechTracker":
        self._ahead = ReadAhead(self._next_block, TRACK_AHEAD_BLOCKS)
        return self

    def __exit__(self, exc_type, exc, tb):
        self._ahead.close()

    @property
    def blocks(self) -> Iterator[bytes]:
        return iter(self._ahead)

    def _next_block(self) -> bytes:
        """The source's next block, analysed; b"" once it is over."""
        for block in self._source:
            if block:
                self._report(self._detector.feed(block))
                return block
        self._report(self._detector.finish())
        return b""

    def _report(self, changes):
        for change in changes:
            self.changes.put(change)
