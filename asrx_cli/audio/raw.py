"""Headerless PCM: from files, pipes and stdin, decoded as it arrives."""

import os
import select
import stat
import threading
from typing import BinaryIO, Optional

import numpy as np

from asrx_cli.audio.convert import RAW_WIDTHS, Converter, decode_raw
from asrx_cli.audio.source import (
    FILE_BLOCK_SECONDS,
    STOP_POLL_SECONDS,
    AudioSource,
    Blocks,
    describe,
    duration_of,
    open_binary,
)
from asrx_cli.config import RawFormat
from asrx_cli.errors import AudioError
from asrx_cli.wire import SAMPLE_RATE

BLOCK_SECONDS = 0.25  # a pipe's block: what a live producer is waited for
SKIP_BYTES = 65536  # what is read at a time of data that is skipped
MAX_BLOCK_BYTES = 1 << 20  # a block is BLOCK_SECONDS of audio, or this much if less


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
        self.position = 0  # bytes handed out so far, less those pushed back

    def read(self, size: int) -> bytes:
        """Up to `size` bytes, fewer if that is what has arrived; b"" at EOF or on stop."""
        data = self._read(size)
        self.position += len(data)
        return data

    def _read(self, size: int) -> bytes:
        if self.pending:
            data, self.pending = self.pending[:size], self.pending[size:]
            return data
        if self.fd is not None:
            return self._read_fd(size)
        reader = getattr(self.stream, "read1", self.stream.read)
        return reader(size)

    def _read_fd(self, size: int) -> bytes:
        assert self.fd is not None
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

    def skip(self, size: int) -> int:
        """Read and drop `size` bytes, a block at a time; the count dropped (less at EOF)."""
        skipped = 0
        while skipped < size:
            data = self.read(min(SKIP_BYTES, size - skipped))
            if not data:
                break
            skipped += len(data)
        return skipped

    def push_back(self, data: bytes):
        self.pending = data + self.pending
        self.position -= len(data)


def _pollable_fd(stream) -> Optional[int]:
    """The fd of a pipe, FIFO, socket or terminal; None for regular files and in-memory streams.

    None on Windows, whose select() takes sockets only: a pipe there is read
    as a file is, each read returning what has arrived.
    """
    if os.name == "nt":
        return None
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):
        return None
    if stat.S_ISREG(mode):
        return None
    return fd


def raw_blocks(reader: ByteReader, fmt: RawFormat, limit: Optional[int] = None,
               block_seconds: float = BLOCK_SECONDS, split: bool = False) -> Blocks:
    """Decode headerless PCM as it arrives; `limit` caps the bytes read (a WAV data chunk).

    `split`: the channels kept apart, interleaved (AudioSource.channels), else mixed down.
    """
    frame_bytes = RAW_WIDTHS[fmt.sample_format] * fmt.channels
    block_bytes = (max(1, min(int(fmt.rate * block_seconds), MAX_BLOCK_BYTES // frame_bytes))
                   * frame_bytes)
    kept = fmt.channels if split else 1
    exact = fmt.sample_format == "s16le" and fmt.rate == SAMPLE_RATE and fmt.channels == kept
    converter = None if exact else Converter(fmt.rate, kept)
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
            yield data if converter is None else converter.convert(
                decode_raw(data, fmt.sample_format, fmt.channels))
    if converter is not None:
        tail = converter.convert(np.zeros((0, fmt.channels), np.float32), last=True)
        if tail:
            yield tail


def open_raw_file(path: str, raw_format: RawFormat, start: float = 0.0,
                  split: bool = False) -> AudioSource:
    """The file from `start` seconds on (a resumed transcription)."""
    stream = open_binary(path)
    size = os.fstat(stream.fileno()).st_size
    frame_bytes = RAW_WIDTHS[raw_format.sample_format] * raw_format.channels
    if size < frame_bytes:
        stream.close()
        raise AudioError(f"{path}: no audio (empty file)")
    skipped = min(int(start * raw_format.rate) * frame_bytes, size // frame_bytes * frame_bytes)
    stream.seek(skipped)
    return AudioSource(f"{path} (raw {describe(raw_format)})",
                       duration_of(size - skipped, raw_format),
                       raw_blocks(ByteReader(stream), raw_format, block_seconds=FILE_BLOCK_SECONDS,
                                  split=split),
                       stream.close, raw_format.channels if split else 1)
