"""The decoder thread: reads, converts and cuts the audio ahead of the sender.

Decoding (libsndfile), conversion (numpy, soxr) and reading a pipe all run
here, so that the sender's thread only sends and sleeps. libsndfile and soxr
release the GIL, so a compressed file is decoded while frames go out.

Frames travel in batches, one per block read: every hand-over between threads
wakes one, and each wake-up costs more CPU than the frames it carries.
"""

import queue
import threading
from typing import Iterable, Iterator, List, Optional, Tuple, Union

from asrx_cli.audio.backlog import Backlog
from asrx_cli.audio.source import STOP_POLL_SECONDS
from asrx_cli.errors import AudioError
from asrx_cli.messages import END_OF_AUDIO


def cut_frames(blocks: Iterable[bytes], size: int) -> Iterator[List[bytes]]:
    """Cut blocks of any length into frames of `size` bytes, a batch per block; the last may be
    shorter."""
    buffer = bytearray()
    failure = None
    try:
        for block in blocks:
            buffer += block
            whole = len(buffer) - len(buffer) % size
            if whole:
                yield [bytes(buffer[start:start + size]) for start in range(0, whole, size)]
                del buffer[:whole]
    except AudioError as exc:  # truncated audio: what was read before it still goes out
        failure = exc
    if buffer:
        yield [bytes(buffer)]
    if failure is not None:
        raise failure


class ReadAhead:
    """Iterates `batches` in a thread of its own, up to `depth` batches ahead of the consumer.

    A context manager: the thread starts in __enter__; __exit__ stops it and
    waits for it, so the source may be closed after it. Iterating yields the
    items of the batches in order and raises what the iterator raised where it
    raised it.
    """

    def __init__(self, batches: Iterable[list], depth: int, backlog_bytes: Optional[int] = None,
                 name: str = "asrx-decoder", stop: Optional[threading.Event] = None):
        """`backlog_bytes`: a live input's, read on while no session takes audio (audio.backlog);
        `stop`: the one the source polls, set on leaving, so that a reader waiting on a quiet
        input sees it."""
        self._batches = batches
        self._queue: Union[Backlog, "queue.Queue[Tuple[object, Optional[BaseException]]]"] = (
            Backlog(depth, backlog_bytes) if backlog_bytes else queue.Queue(depth))
        self._stop = stop if stop is not None else threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def hold(self, holding: bool) -> bool:
        """While no session takes audio: a live input is read on into its backlog (Backlog.hold)."""
        return isinstance(self._queue, Backlog) and self._queue.hold(holding)

    def __enter__(self) -> "ReadAhead":
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        while self._thread.is_alive():
            self._drain()  # a thread blocked on a full queue gets its place, then sees the stop
            self._thread.join(STOP_POLL_SECONDS)

    def _drain(self):
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass

    def _run(self):
        try:
            for batch in self._batches:
                if self._stop.is_set():
                    return
                self._queue.put((batch, None))
            self._queue.put((END_OF_AUDIO, None))
        except Exception as exc:  # handed over in order, raised by the consumer
            self._queue.put((END_OF_AUDIO, exc))

    def next_batch(self, timeout: float):
        """The next batch; None if none came within `timeout`; END_OF_AUDIO once all is read.

        Raises what the iterator raised, where it raised it.
        """
        try:
            batch, error = self._queue.get(timeout=timeout)
        except queue.Empty:
            if not self._thread.is_alive() and self._queue.empty():
                return END_OF_AUDIO  # stopped before the end: nothing more will come
            return None
        if error is not None:
            raise error
        return batch

    def __iter__(self) -> Iterator:
        while True:
            batch = self.next_batch(STOP_POLL_SECONDS)
            if batch is END_OF_AUDIO:
                return
            if batch is not None:
                yield from batch
