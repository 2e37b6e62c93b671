"""--save-audio with --channels split: what each channel's session sent, in one multi-channel WAV.

Each channel's sender hands what it sent to its own tap; a writer thread
interleaves the channels as far as all of them have come, and at the end pads
the shorter ones with silence, so the file holds exactly what went out.
"""

import logging
import queue
import threading
from typing import Any, Callable, List, Optional

import numpy as np

from asrx_cli.audio.recording import open_wav
from asrx_cli.errors import UsageError
from asrx_cli.messages import END_OF_AUDIO
from asrx_cli.wire import BYTES_PER_SECOND, SAMPLE_WIDTH

log = logging.getLogger("asrx")


class ChannelTap:
    """What a channel's session records through: Recording's `tap`, for one channel."""

    def __init__(self, index: int, frames: "queue.Queue"):
        self.index = index
        self._frames = frames

    def tap(self, send: Callable[[bytes], None],
            new_part: Callable[[bytes], bytes] = lambda frame: frame) -> Callable[[bytes], None]:
        def send_and_record(frame: bytes):
            send(frame)  # raises if the frame did not go out: then it is not recorded either
            part = new_part(frame)
            if part:
                self._frames.put((self.index, part))

        return send_and_record


class ChannelsRecording:
    """A context manager; `channel(index)` is that channel's tap."""

    def __init__(self, path: str, channels: int):
        self.path = path
        self.channels = channels
        self.error: Optional[BaseException] = None
        self.frames_written = 0
        self._pending: List[bytearray] = [bytearray() for _ in range(channels)]
        self._frames: "queue.Queue" = queue.Queue()
        self._thread = threading.Thread(target=self._write_all, name="asrx-recorder", daemon=True)
        self._file: Any = None  # a soundfile.SoundFile once entered

    def channel(self, index: int) -> ChannelTap:
        return ChannelTap(index, self._frames)

    def __enter__(self) -> "ChannelsRecording":
        self._file = open_wav(self.path, self.channels)
        self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._frames.put(END_OF_AUDIO)
        self._thread.join()
        longest = max(len(pending) for pending in self._pending)
        for pending in self._pending:  # a channel that sent less: silence to the end
            pending.extend(bytes(longest - len(pending)))
        self._write(longest)
        self._file.close()
        log.info("audio saved: %s (%.2f s, %d channels)", self.path,
                 self.frames_written * SAMPLE_WIDTH / BYTES_PER_SECOND, self.channels)
        if exc_type is None and self.error is not None:
            raise UsageError(f"writing {self.path} failed: {self.error}")

    def _write_all(self):
        while True:
            item = self._frames.get()
            if item is END_OF_AUDIO:
                return
            index, part = item
            self._pending[index] += part
            self._write(min(len(pending) for pending in self._pending))

    def _write(self, size: int):
        """The first `size` bytes of every channel, interleaved."""
        size -= size % SAMPLE_WIDTH
        if not size:
            return
        samples = np.stack([np.frombuffer(bytes(pending[:size]), dtype="<i2")
                            for pending in self._pending], axis=1)
        for pending in self._pending:
            del pending[:size]
        if self.error is not None:
            return  # the disk failed: the transcription goes on, the error is reported at the end
        try:
            self._file.write(samples)
            self.frames_written += len(samples)
        except Exception as exc:
            self.error = exc
