"""Decoding ahead of the sender, in a thread of its own."""

import queue
import threading
from typing import Callable, Iterator

import numpy as np

from asrx_cli.audio.source import STOP_POLL_SECONDS

DECODE_AHEAD_BLOCKS = 4


class ReadAhead:
    """Calls `read()` in a thread of its own, up to `depth` blocks ahead of the consumer.

    libsndfile decodes without the GIL, so a compressed file is decoded while
    the sender converts and sends the blocks before it. Iterating yields the
    blocks in order until `read()` returns an empty one, and raises what
    `read()` raised where it raised it. `close()` stops the thread and waits
    for it, so the file may be closed after it.
    """

    def __init__(self, read: Callable[[], np.ndarray], depth: int = DECODE_AHEAD_BLOCKS):
        self._read = read
        self._blocks: "queue.Queue" = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="asrx-decoder", daemon=True)
        self._thread.start()

    def _run(self):
        try:
            while not self._stop.is_set():
                block = self._read()
                self._put((block, None))
                if not len(block):
                    return
        except Exception as exc:  # handed over in order, raised by the consumer
            self._put((None, exc))

    def _put(self, item):
        while not self._stop.is_set():
            try:
                self._blocks.put(item, timeout=STOP_POLL_SECONDS)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            block, error = self._blocks.get()
            if error is not None:
                raise error
            if not len(block):
                return
            yield block

    def close(self):
        self._stop.set()
        self._thread.join()


def until_empty(read: Callable[[], np.ndarray]) -> Iterator[np.ndarray]:
    while True:
        block = read()
        if not len(block):
            return
        yield block
