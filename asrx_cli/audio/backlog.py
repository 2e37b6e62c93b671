"""The decoder thread's queue for a live input, which must be read whatever happens.

While a session runs it holds `depth` batches, as any read-ahead queue: the
decoder waits for the sender. While the connection is down (`hold(True)`,
from the main thread), a microphone or a pipe goes on being read into the
queue at real time, up to `limit_bytes` of audio; beyond that the oldest
batch is dropped, and a `Gap` at the head of the queue says how much, so
that the sender keeps every position in the input right.

At real time, not faster: a producer faster than that (a file through `cat`
or `ffmpeg`) can wait, and its audio must not be read only to be dropped;
one at real time (arecord, a microphone) is never held back.
"""

import collections
import queue
import threading
import time
from typing import Deque, Tuple

from asrx_cli.messages import Gap
from asrx_cli.wire import BYTES_PER_SECOND

WAIT_SLICE = 0.1  # a decoder waiting for room looks again this often
# While down, how far reading may run ahead of the clock: a live producer's
# audio comes in blocks (a pipe's, stdin's quarter second), never a second ahead.
HOLD_AHEAD_SECONDS = 1.0


def _size(item) -> int:
    batch = item[0]
    return sum(len(frame) for frame in batch) if isinstance(batch, list) else 0


class Backlog:
    """A queue of (batch, error) items with the parts of queue.Queue that ReadAhead uses."""

    def __init__(self, depth: int, limit_bytes: int):
        self.depth = depth
        self.limit = limit_bytes
        self._items: Deque[Tuple[object, object]] = collections.deque()
        self._bytes = 0
        self._holding = False
        self._held_since = 0.0  # monotonic: when the connection went down
        self._held_bytes = 0  # audio read since then
        self._ran_ahead = False  # the input came faster than real time while down
        self._changed = threading.Condition()

    def hold(self, holding: bool) -> bool:
        """True while no session takes audio: the decoder reads on, into the backlog, at real time.

        Returns whether the input ran ahead of real time while held: a pipe
        faster than real time is not live, and has no backlog to catch up on.
        """
        with self._changed:
            ran_ahead = self._ran_ahead
            self._holding = holding
            self._held_since, self._held_bytes, self._ran_ahead = time.monotonic(), 0, False
            self._changed.notify_all()
            return ran_ahead

    def put(self, item):
        with self._changed:
            while self._must_wait():
                self._ran_ahead |= self._holding
                self._changed.wait(WAIT_SLICE)
            self._items.append(item)
            self._bytes += _size(item)
            if self._holding:  # while a session takes audio, the depth bounds the queue
                self._held_bytes += _size(item)
                self._drop_beyond_limit()
            self._changed.notify_all()

    def _must_wait(self) -> bool:
        if not self._holding:
            return len(self._items) >= self.depth
        ahead = self._held_bytes / BYTES_PER_SECOND - (time.monotonic() - self._held_since)
        return ahead > HOLD_AHEAD_SECONDS

    def _drop_beyond_limit(self):
        while (self._bytes > self.limit and len(self._items) > 2
               and isinstance(self._items[1][0], list)):
            gap = self._items[0][0] if isinstance(self._items[0][0], Gap) else None
            if gap is None:
                gap = Gap(0)
                self._items.appendleft((gap, None))
            dropped = self._items[1]
            del self._items[1]
            size = _size(dropped)
            self._bytes -= size
            gap.bytes += size

    def get(self, timeout=None):
        with self._changed:
            if not self._changed.wait_for(lambda: self._items, timeout):
                raise queue.Empty
            item = self._items.popleft()
            self._bytes -= _size(item)
            self._changed.notify_all()
            return item

    def get_nowait(self):
        return self.get(timeout=0)

    def empty(self) -> bool:
        with self._changed:
            return not self._items
