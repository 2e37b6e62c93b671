"""The sending side's audio across sessions: what was sent, kept to be sent again.

A `Feed` stands between the decoder thread's frames and the sender of each
session. It remembers the frames it handed out, with their positions in the
input, for as long as `keep_seconds` of audio. When a session is lost, the
main thread decides where the next one starts (asrx_cli/stream/reconnect.py) and
rewinds the feed there, between sessions, when no sender is running; the
next session's sender reports where its audio starts (`Resumed`), so that
every position the main thread sees is a position in the input, whatever
was sent twice.

Only one session's sender iterates the feed at a time, and none while the
main thread rewinds it. What the feed has to say between sessions (audio a
live input dropped while the connection was down) waits for the next
session and goes to it.
"""

import collections
import threading
from typing import Callable, Deque, Iterator, List, Optional, Tuple

from asrx_cli.audio.source import STOP_POLL_SECONDS
from asrx_cli.messages import END_OF_AUDIO, Gap, Resumed, Skipped, Starved
from asrx_cli.stream.sender import StopFlag
from asrx_cli.wire import BYTES_PER_SECOND, SAMPLE_WIDTH


class Feed:
    """The frames of the input for one session after another; `frames(stop, report)` per session."""

    def __init__(self, batches, keep_seconds: float):
        self._batches = batches  # .next_batch(timeout), as audio.readahead.ReadAhead
        self._keep = int(keep_seconds * BYTES_PER_SECOND)
        # (position, frame), oldest first
        self._sent: Deque[Tuple[int, bytes]] = collections.deque()
        self._sent_bytes = 0
        # frames to send next, replayed or read; None once the audio ended
        self._ready: Optional[Deque[bytes]] = collections.deque()
        self.position = 0  # bytes: where the next frame starts in the input
        self._between_sessions: List[object] = []  # messages for the next session
        self._report: Callable[[object], None] = self._between_sessions.append
        self._gone_out = 0  # bytes: how far in the input audio has gone out, in any session
        self._starved = False  # said so, and nothing read since

    def frames(self, stop: StopFlag, report: Callable[[object], None]) -> Iterator[bytes]:
        """One session's frames, on its sender's thread; `report` takes that session's messages."""
        self._report = report
        self._starved = False
        for message in self._between_sessions:
            report(message)
        self._between_sessions.clear()
        report(Resumed(self.position / BYTES_PER_SECOND))
        try:
            while not stop.is_set():
                if not self._ready and not self._read():
                    if self._ready is None:
                        return
                    continue
                assert self._ready is not None  # frames are ready: the audio has not ended
                frame = self._ready.popleft()
                self._remember(frame)
                yield frame
        finally:
            if self._report is report:  # the session is over: its queue is read no more
                self._report = self._between_sessions.append

    def new_part(self, frame: bytes) -> bytes:
        """Of the frame just handed out, once it has gone out: the part no session sent before."""
        start = self.position - len(frame)
        part = frame[max(self._gone_out - start, 0):]
        self._gone_out = max(self._gone_out, self.position)
        return part

    def wait_for_audio(self, stop: threading.Event):
        """Between sessions (no sender is running): return once a frame is ready, the audio
        ended, or a stop."""
        while not stop.is_set() and self._ready is not None and not self._ready:
            self._read()

    def _read(self) -> bool:
        """Frames from the decoder into `_ready`; False if none came in time."""
        batch = self._batches.next_batch(0.0)
        if batch is None:
            # Nothing ready: every frame handed out has gone out. Said before the wait, so that
            # an error meanwhile names the audio sent (an unpaced pipe's frames go in a burst).
            if not self._starved:
                self._starved = True
                self._report(Starved(self.position / BYTES_PER_SECOND))
            batch = self._batches.next_batch(STOP_POLL_SECONDS)
        if batch is END_OF_AUDIO:
            self._ready = None  # the end: frames() returns
            return False
        if batch is None:
            return False
        self._starved = False
        if isinstance(batch, Gap):  # a live input's backlog overflowed: that audio is gone
            self.position += batch.bytes
            self._report(Skipped(batch.seconds))
            return False
        assert self._ready is not None  # no audio comes after its end
        self._ready.extend(batch)
        return True

    def _remember(self, frame: bytes):
        self._sent.append((self.position, frame))
        self._sent_bytes += len(frame)
        self.position += len(frame)
        while self._sent and self._sent_bytes - len(self._sent[0][1]) >= self._keep:
            self._sent_bytes -= len(self._sent.popleft()[1])

    @property
    def kept_from(self) -> float:
        """Where the oldest audio kept to send again starts, in seconds of the input."""
        return (self._sent[0][0] if self._sent else self.position) / BYTES_PER_SECOND

    def rewind(self, seconds: float):
        """Between sessions: the next starts at `seconds` of the input (or at the oldest frame
        kept).

        The frames sent from there on go back in front of what is ready.
        """
        target = int(seconds * BYTES_PER_SECOND) // SAMPLE_WIDTH * SAMPLE_WIDTH
        again = []
        while self._sent and self._sent[-1][0] + len(self._sent[-1][1]) > target:
            position, frame = self._sent.pop()
            self._sent_bytes -= len(frame)
            if position < target:  # the frame holding the target: from the target on
                frame, position = frame[target - position:], target
            again.append(frame)
            self.position = position
        if self._ready is None:
            self._ready = collections.deque()
        self._ready.extendleft(again)  # extendleft reverses: `again` is newest first
