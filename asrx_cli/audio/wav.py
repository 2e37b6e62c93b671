"""WAV headers read from a byte stream (stdin), chunk by chunk."""

import dataclasses
import struct
from typing import Optional

from asrx_cli.audio.raw import ByteReader
from asrx_cli.config import RawFormat
from asrx_cli.errors import AudioError


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
