"""The decoder thread: reads, converts and cuts the audio ahead of the sender.

Decoding (libsndfile), conversion (numpy, soxr) and reading a pipe all run
here, so that the sender's thread only sends and sleeps. libsndfile and soxr
release the GIL, so a compressed file is decoded while frames go out.
"""

import queue
import threading
from typing import Iterable, Iterator

from asrx_cli.audio.source import STOP_POLL_SECONDS

_END = object()


class ReadAhead:
    """Iterates `items` in a thread of its own, up to `depth` items ahead of the consumer.

    A context manager: the thread starts in __enter__; __exit__ stops it and
    waits for it, so the source may be closed after it. Iterating yields the
    items in order and raises what the iterator raised where it raised it.
    """

    def __init__(self, items: Iterable, depth: int):
        self._items = items
        self._queue: "queue.Queue" = queue.Queue(depth)
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="asrx-decoder", daemon=True)

    def __enter__(self) -> "ReadAhead":
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()

    def _run(self):
        try:
            for item in self._items:
                if not self._put((item, None)):
                    return
            self._put((_END, None))
        except Exception as exc:  # handed over in order, raised by the consumer
            self._put((_END, exc))
        finally:
            self._done.set()

    def _put(self, entry) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=STOP_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator:
        while True:
            try:
                item, error = self._queue.get(timeout=STOP_POLL_SECONDS)
            except queue.Empty:
                if self._done.is_set() and self._queue.empty():
                    return  # stopped before the end: nothing more will come
                continue
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
