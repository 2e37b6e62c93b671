"""Audio sources: decode, downmix, resample and convert to 16 kHz mono s16le.

Every source is read block by block, so memory stays flat whatever the length
of the input. Blocks come out as s16le bytes of any length; the pacer cuts
them into frames.
"""

import dataclasses
import os
import queue
import select
import struct
import threading
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Optional

import numpy as np

from asrx_cli.config import RawFormat
from asrx_cli.wire import SAMPLE_RATE
from asrx_cli.errors import AudioError

BLOCK_SECONDS = 0.25
# soundfile asks libsndfile where it is and seeks there again around every
# read, which costs a FLAC or Ogg decoder a good part of a block's decoding:
# files are read a second at a time.
FILE_BLOCK_SECONDS = 1.0
RAW_SUFFIXES = {".pcm", ".raw"}
STOP_POLL_SECONDS = 0.1  # how often a reader waiting on input or a queue looks at its stop flag

# numpy dtypes of headerless formats; s24le has none and is unpacked by hand.
RAW_DTYPES = {
    "s16le": "<i2", "s16be": ">i2", "s32le": "<i4", "f32le": "<f4", "f64le": "<f8",
    "u8": "u1", "s8": "i1",
}
RAW_WIDTHS = {"s24le": 3, **{name: np.dtype(dtype).itemsize for name, dtype in RAW_DTYPES.items()}}

# Signatures of containers that only work from a seekable file.
CONTAINER_MAGIC = {b"fLaC": "FLAC", b"OggS": "Ogg", b"ID3": "MP3", b"FORM": "AIFF"}


@dataclasses.dataclass
class AudioSource:
    """A stream of 16 kHz mono s16le blocks, with what is known about it."""

    description: str
    duration: Optional[float]  # seconds, when known in advance
    blocks: Iterator[bytes]
    release: Optional[Callable[[], None]] = None  # closes the file, read or not

    def close(self):
        self.blocks.close()
        if self.release is not None:
            self.release()


# --- conversion ---------------------------------------------------------------------


def float_to_s16(samples: np.ndarray) -> np.ndarray:
    """Scale [-1, 1) floats to s16, clipping out-of-range values instead of wrapping."""
    scaled = np.rint(samples * 32768.0)
    return np.clip(scaled, -32768, 32767).astype("<i2")


def downmix(frames: np.ndarray) -> np.ndarray:
    """Average the channels of a (frames, channels) float array into one."""
    if frames.ndim == 1:
        return frames
    if frames.shape[1] == 1:
        return frames[:, 0]
    # Channel by channel: numpy's mean along a short axis costs 30 times as much.
    mono = frames[:, 0].astype(np.float32)
    for channel in range(1, frames.shape[1]):
        mono += frames[:, channel]
    mono *= np.float32(1.0 / frames.shape[1])
    return mono


class Converter:
    """Turns float blocks at any rate and channel count into 16 kHz mono s16le bytes."""

    def __init__(self, rate: int):
        self.resampler = None
        if rate != SAMPLE_RATE:
            import soxr

            self.resampler = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")

    def convert(self, frames: np.ndarray, last: bool = False) -> bytes:
        mono = np.ascontiguousarray(downmix(frames), dtype=np.float32)
        if self.resampler is not None:
            mono = self.resampler.resample_chunk(mono, last=last)
        return float_to_s16(mono).tobytes()


def decode_raw(data: bytes, sample_format: str, channels: int) -> np.ndarray:
    """Headerless PCM bytes (whole frames) to a (frames, channels) float32 array."""
    if sample_format == "s24le":
        triples = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        values = np.where(values >= 1 << 23, values - (1 << 24), values)
        samples = values.astype(np.float32) / float(1 << 23)
    else:
        raw = np.frombuffer(data, dtype=RAW_DTYPES[sample_format])
        samples = _normalise(raw, sample_format)
    return samples.reshape(-1, channels)


def _normalise(raw: np.ndarray, sample_format: str) -> np.ndarray:
    if sample_format.startswith("f"):
        return raw.astype(np.float32)
    if sample_format == "u8":
        return (raw.astype(np.float32) - 128.0) / 128.0
    bits = raw.dtype.itemsize * 8
    return raw.astype(np.float32) / float(1 << (bits - 1))


def is_passthrough(fmt: RawFormat) -> bool:
    return fmt.sample_format == "s16le" and fmt.channels == 1 and fmt.rate == SAMPLE_RATE


# --- decoding ahead -------------------------------------------------------------------

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


def _until_empty(read: Callable[[], np.ndarray]) -> Iterator[np.ndarray]:
    while True:
        block = read()
        if not len(block):
            return
        yield block


# --- headerless PCM -------------------------------------------------------------------


class ByteReader:
    """Reads a byte stream as data arrives, with bytes pushed back after a peek.

    Pipes are polled so that a stop request is seen even while the producer is
    silent; what has arrived is handed on at once instead of waiting for EOF.
    """

    def __init__(self, stream: BinaryIO, stop: Optional[threading.Event] = None):
        self.stream = stream
        self.stop = stop or threading.Event()
        self.pending = b""
        self.fd = _pollable_fd(stream)

    def read(self, size: int) -> bytes:
        """Up to `size` bytes, fewer if that is what has arrived; b"" at EOF or on stop."""
        if self.pending:
            data, self.pending = self.pending[:size], self.pending[size:]
            return data
        if self.fd is not None:
            return self._read_fd(size)
        reader = getattr(self.stream, "read1", self.stream.read)
        return reader(size)

    def _read_fd(self, size: int) -> bytes:
        while not self.stop.is_set():
            ready, _, _ = select.select([self.fd], [], [], STOP_POLL_SECONDS)
            if ready:
                return os.read(self.fd, size)
        return b""

    def read_exactly(self, size: int) -> bytes:
        """`size` bytes unless EOF comes first."""
        parts, missing = [], size
        while missing:
            data = self.read(missing)
            if not data:
                break
            parts.append(data)
            missing -= len(data)
        return b"".join(parts)

    def push_back(self, data: bytes):
        self.pending = data + self.pending


def _pollable_fd(stream) -> Optional[int]:
    """The fd of a pipe, FIFO, socket or terminal; None for regular files and in-memory streams."""
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):
        return None
    import stat

    if stat.S_ISREG(mode):
        return None
    return fd


def raw_blocks(reader: ByteReader, fmt: RawFormat, limit: Optional[int] = None) -> Iterator[bytes]:
    """Decode headerless PCM as it arrives; `limit` caps the bytes read (a WAV data chunk)."""
    frame_bytes = RAW_WIDTHS[fmt.sample_format] * fmt.channels
    block_bytes = max(frame_bytes, int(fmt.rate * BLOCK_SECONDS) * frame_bytes)
    converter = None if is_passthrough(fmt) else Converter(fmt.rate)
    carry = b""
    remaining = limit
    while remaining is None or remaining > 0:
        want = block_bytes if remaining is None else min(block_bytes, remaining)
        data = reader.read(want)
        if not data:
            break
        if remaining is not None:
            remaining -= len(data)
        data = carry + data
        whole = len(data) - len(data) % frame_bytes
        data, carry = data[:whole], data[whole:]
        if data:
            yield data if converter is None else converter.convert(decode_raw(data, fmt.sample_format, fmt.channels))
    if converter is not None:
        tail = converter.convert(np.zeros((0, fmt.channels), np.float32), last=True)
        if tail:
            yield tail


# --- WAV headers ----------------------------------------------------------------------


@dataclasses.dataclass
class WavHeader:
    format: RawFormat
    data_offset: int
    data_size: Optional[int]  # None when the writer left it open (streaming)


WAVE_FORMAT_PCM, WAVE_FORMAT_FLOAT, WAVE_FORMAT_EXTENSIBLE = 1, 3, 0xFFFE
# Streaming writers (arecord, sox) put 0 or a huge placeholder where the data size goes.
PLACEHOLDER_SIZE = 0x7F000000


def read_wav_header(reader: ByteReader, name: str) -> WavHeader:
    """Parse RIFF/WAVE chunks up to the start of the audio data."""
    riff = reader.read_exactly(12)
    if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
        raise AudioError(f"{name}: not a WAV stream")
    offset, fmt = 12, None
    while True:
        chunk = reader.read_exactly(8)
        if len(chunk) < 8:
            raise AudioError(f"{name}: WAV header ends before the audio data")
        chunk_id, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        offset += 8
        if chunk_id == b"data":
            if fmt is None:
                raise AudioError(f"{name}: WAV data comes before its format chunk")
            return WavHeader(fmt, offset, None if size == 0 or size >= PLACEHOLDER_SIZE else size)
        body = reader.read_exactly(size + size % 2)
        offset += len(body)
        if chunk_id == b"fmt ":
            fmt = _parse_fmt_chunk(body, name)


def _parse_fmt_chunk(body: bytes, name: str) -> RawFormat:
    if len(body) < 16:
        raise AudioError(f"{name}: WAV format chunk is too short")
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == WAVE_FORMAT_EXTENSIBLE and len(body) >= 26:
        tag = struct.unpack("<H", body[24:26])[0]
    formats = {
        (WAVE_FORMAT_PCM, 8): "u8", (WAVE_FORMAT_PCM, 16): "s16le", (WAVE_FORMAT_PCM, 24): "s24le",
        (WAVE_FORMAT_PCM, 32): "s32le", (WAVE_FORMAT_FLOAT, 32): "f32le", (WAVE_FORMAT_FLOAT, 64): "f64le",
    }
    sample_format = formats.get((tag, bits))
    if sample_format is None or channels < 1 or rate < 1:
        raise AudioError(f"{name}: unsupported WAV encoding (format {tag}, {bits} bits)")
    return RawFormat(rate=rate, channels=channels, sample_format=sample_format)


# --- opening sources ------------------------------------------------------------------


def open_source(path: str, raw_format: RawFormat, raw_format_given: bool,
                stdin: BinaryIO, stop: threading.Event) -> AudioSource:
    if path == "-":
        return open_stdin(stdin, raw_format, stop)
    if Path(path).suffix.lower() in RAW_SUFFIXES:
        return open_raw_file(path, raw_format)
    if raw_format_given:
        raise AudioError(f"{path}: --raw-* options apply to .pcm/.raw files and stdin only")
    return open_sound_file(path)


def open_stdin(stdin: BinaryIO, raw_format: RawFormat, stop: threading.Event) -> AudioSource:
    reader = ByteReader(stdin, stop)
    head = reader.read_exactly(12)
    if not head:
        raise AudioError("stdin: no audio (empty input)")
    reader.push_back(head)
    for magic, container in CONTAINER_MAGIC.items():
        if head.startswith(magic):
            raise AudioError(f"stdin: {container} data can only be read from a file; give its path instead of -")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        header = read_wav_header(reader, "stdin")
        return AudioSource(f"stdin (WAV, {_describe(header.format)})",
                           _duration(header.data_size, header.format),
                           raw_blocks(reader, header.format, header.data_size))
    return AudioSource(f"stdin (raw {_describe(raw_format)})", None, raw_blocks(reader, raw_format))


def open_raw_file(path: str, raw_format: RawFormat) -> AudioSource:
    stream = _open_binary(path)
    size = os.fstat(stream.fileno()).st_size
    frame_bytes = RAW_WIDTHS[raw_format.sample_format] * raw_format.channels
    if size < frame_bytes:
        stream.close()
        raise AudioError(f"{path}: no audio (empty file)")
    return AudioSource(f"{path} (raw {_describe(raw_format)})", _duration(size, raw_format),
                       raw_blocks(ByteReader(stream), raw_format), stream.close)


def open_sound_file(path: str) -> AudioSource:
    import soundfile

    stream = _open_binary(path)
    stream.close()  # only to report a missing or unreadable file in plain words
    try:
        sound = soundfile.SoundFile(path)
    except (soundfile.SoundFileError, RuntimeError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({_libsndfile_reason(exc)})") from None
    if sound.frames == 0:
        sound.close()
        raise AudioError(f"{path}: no audio (zero samples)")
    declared = _declared_frames(path, sound)
    description = f"{path} ({sound.format_info}, {sound.samplerate} Hz, {sound.channels} ch)"
    return AudioSource(description, declared / sound.samplerate,
                       _sound_file_blocks(sound, path, declared), sound.close)


def _sound_file_blocks(sound, path: str, declared: int) -> Iterator[bytes]:
    import soundfile

    # 16 kHz mono 16-bit files go out bit-exact; everything else through float.
    exact = sound.samplerate == SAMPLE_RATE and sound.channels == 1 and sound.subtype == "PCM_16"
    converter = None if exact else Converter(sound.samplerate)
    block = max(1, int(sound.samplerate * FILE_BLOCK_SECONDS))
    got = 0
    if exact:  # a copy: not worth a thread
        decoded = _until_empty(lambda: sound.read(block, dtype="int16"))
    else:
        decoded = ReadAhead(lambda: sound.read(block, dtype="float32", always_2d=True))
    try:
        for frames in decoded:
            got += len(frames)
            yield frames.astype("<i2", copy=False).tobytes() if exact else converter.convert(frames)
    except (soundfile.SoundFileError, RuntimeError) as exc:
        raise AudioError(f"{path}: decoding failed after {got / sound.samplerate:.2f} s "
                         f"({_libsndfile_reason(exc)})") from None
    finally:
        decoded.close()  # stops the decoding thread before the file closes under it
    if converter is not None:
        yield converter.convert(np.zeros((0, 1), np.float32), last=True)
    if got < declared:
        raise AudioError(f"{path}: truncated: {got / sound.samplerate:.2f} s of "
                         f"{declared / sound.samplerate:.2f} s could be read")


def _declared_frames(path: str, sound) -> int:
    """Frames the header promises; for WAV, libsndfile silently trims this to the file size."""
    if sound.format not in ("WAV", "WAVEX"):
        return sound.frames
    with open(path, "rb") as stream:
        try:
            header = read_wav_header(ByteReader(stream), path)
        except AudioError:
            return sound.frames
    if header.data_size is None:
        return sound.frames
    frame_bytes = RAW_WIDTHS.get(header.format.sample_format, 2) * header.format.channels
    return max(sound.frames, header.data_size // frame_bytes)


def _open_binary(path: str):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AudioError(f"{path}: is a directory") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot open ({exc.strerror})") from None


def _libsndfile_reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    # libsndfile prefixes "Error opening 'path': "; the path is already in our message.
    return text.split(": ", 1)[-1].rstrip(".").lower() if text.startswith("Error") else text


def _describe(fmt: RawFormat) -> str:
    return f"{fmt.sample_format}, {fmt.rate} Hz, {fmt.channels} ch"


def _duration(size: Optional[int], fmt: RawFormat) -> Optional[float]:
    if size is None:
        return None
    return size / (RAW_WIDTHS[fmt.sample_format] * fmt.channels * fmt.rate)
