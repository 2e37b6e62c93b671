"""--channels split: one input read once, its channels handed out as mono sources of their own.

A thread of its own (the splitter) reads the source's interleaved 16 kHz
s16le blocks and puts each channel's samples in that channel's queue; each
channel's session reads its queue as it would read a mono source. The
splitter starts reading once every channel's session has its connection
(`start`), so that all channels begin on the same schedule; the queues are
bounded, so no channel runs further ahead of the others than they hold.
"""

import queue
import threading
from typing import List

import numpy as np

from asrx_cli.audio.source import STOP_POLL_SECONDS, AudioSource, Blocks
from asrx_cli.messages import END_OF_AUDIO

# Blocks a channel's queue holds (a file's block is 4 s, a pipe's 0.25 s): room for
# one channel's reconnect while the others go on.
QUEUED_BLOCKS = 16


def channel_of(block: bytes, channel: int, channels: int) -> bytes:
    """One channel's samples of a block of interleaved s16le frames."""
    return np.frombuffer(block, dtype="<i2").reshape(-1, channels)[:, channel].tobytes()


class ChannelSplitter:
    """A context manager: the splitter thread runs between `start()` and leaving the context."""

    def __init__(self, source: AudioSource, stop: threading.Event):
        self.source = source
        self.channels = source.channels
        self._stop = stop  # the run's: Ctrl-C, or a channel that failed
        self._closing = threading.Event()
        self._queues: List["queue.Queue"] = [queue.Queue(QUEUED_BLOCKS)
                                             for _ in range(self.channels)]
        self._thread = threading.Thread(target=self._run, name="asrx-splitter", daemon=True)

    def sources(self) -> List[AudioSource]:
        """A mono source per channel, in order."""
        described = self.source.description
        return [AudioSource(f"{described}, channel {index + 1}", self.source.duration,
                            self._blocks(index))
                for index in range(self.channels)]

    def start(self):
        if not self._thread.is_alive() and not self._closing.is_set():
            self._thread.start()

    def __enter__(self) -> "ChannelSplitter":
        return self

    def __exit__(self, *exc_info):
        self._closing.set()
        if self._thread.ident is not None:
            while self._thread.is_alive():
                for channel in self._queues:
                    _drain(channel)  # a put blocked on a full queue goes in, then sees the stop
                self._thread.join(STOP_POLL_SECONDS)

    def _run(self):
        try:
            for block in self.source.blocks:
                if self._closing.is_set():
                    return
                for index, channel in enumerate(self._queues):
                    self._put(channel, (channel_of(block, index, self.channels), None))
            self._put_all((END_OF_AUDIO, None))
        except Exception as exc:  # each channel raises it where its audio ends
            self._put_all((END_OF_AUDIO, exc))

    def _put_all(self, item):
        for channel in self._queues:
            self._put(channel, item)

    def _put(self, channel: "queue.Queue", item):
        """Into a channel's queue, unless the run closes first."""
        while not self._closing.is_set():
            try:
                channel.put(item, timeout=STOP_POLL_SECONDS)
                return
            except queue.Full:
                continue

    def _blocks(self, index: int) -> Blocks:
        channel = self._queues[index]
        while True:
            try:
                block, error = channel.get(timeout=STOP_POLL_SECONDS)
            except queue.Empty:
                if self._closing.is_set() or (self._stop.is_set() and not self._thread.is_alive()):
                    return
                continue
            if error is not None:
                raise error
            if block is END_OF_AUDIO:
                return
            yield block


def _drain(channel: "queue.Queue"):
    try:
        while True:
            channel.get_nowait()
    except queue.Empty:
        pass

