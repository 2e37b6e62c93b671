"""--save-audio: the audio the server received, kept as a 16 kHz mono 16-bit WAV file.

What is recorded is what the sender's send call took, frame by frame, so the
file holds exactly what went out, however the run ends. A thread of its own
writes it: the sender only hands frames over. Leaving the context closes the
file through libsndfile on every path, so its header is always valid.
"""

import contextlib
import logging
import queue
import threading
from typing import Any, Callable, Optional

from asrx_cli.errors import UsageError
from asrx_cli.messages import END_OF_AUDIO
from asrx_cli.wire import BYTES_PER_SECOND, CHANNELS, SAMPLE_RATE

log = logging.getLogger("asrx")

WAV_HEADER_BYTES = 44


class Recording:
    """A context manager; `tap(send)` is `send` that also records what it sent."""

    def __init__(self, path: str):
        self.path = path
        self.bytes_written = 0
        self.error: Optional[BaseException] = None
        self._frames: "queue.Queue[object]" = queue.Queue()  # frames, then END_OF_AUDIO
        self._thread = threading.Thread(target=self._write_all, name="asrx-recorder", daemon=True)
        self._file: Any = None  # a soundfile.SoundFile once entered

    def __enter__(self) -> "Recording":
        self._file = open_wav(self.path, CHANNELS)
        self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._frames.put(END_OF_AUDIO)
        self._thread.join()
        self._file.close()
        log.info("audio saved: %s (%.2f s)", self.path, self.bytes_written / BYTES_PER_SECOND)
        if exc_type is None and self.error is not None:
            raise UsageError(f"writing {self.path} failed: {self.error}")

    def tap(self, send: Callable[[bytes], None],
            new_part: Callable[[bytes], bytes] = lambda frame: frame) -> Callable[[bytes], None]:
        """`send`, recording what went out; `new_part(frame)` is the part not recorded before
        (a replay)."""
        def send_and_record(frame: bytes):
            send(frame)  # raises if the frame did not go out: then it is not recorded either
            part = new_part(frame)
            if part:
                self._frames.put(part)

        return send_and_record

    def _write_all(self):
        while True:
            frame = self._frames.get()
            if frame is END_OF_AUDIO:
                return
            if self.error is not None:
                continue  # the disk failed: transcription goes on, the error is reported at the end
            try:
                assert isinstance(frame, bytes)
                self._file.buffer_write(frame, dtype="int16")
                self.bytes_written += len(frame)
            except Exception as exc:
                self.error = exc


def open_wav(path: str, channels: int):
    """A 16 kHz 16-bit WAV file open for writing; a failure said in the operating system's words."""
    import soundfile  # loads libsndfile: only when a recording is asked for

    try:
        open(path, "wb").close()  # the system's reason, where libsndfile has none
        return soundfile.SoundFile(path, "w", samplerate=SAMPLE_RATE, channels=channels,
                                   subtype="PCM_16", format="WAV")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    except (soundfile.SoundFileError, RuntimeError) as exc:
        reason = _write_failure(path) or str(exc).splitlines()[0]
        raise UsageError(f"cannot write {path}: {reason}") from None


def _write_failure(path: str) -> Optional[str]:
    """Why writing a WAV header to `path` fails, in the operating system's words (/dev/full)."""
    try:
        with open(path, "wb") as stream:
            stream.write(bytes(WAV_HEADER_BYTES))
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def recording(path: Optional[str]):
    """A Recording for `path`, or a context that records nothing."""
    return Recording(path) if path else contextlib.nullcontext()

