"""WAV headers read from a byte stream (stdin), chunk by chunk."""

import dataclasses
import struct
from typing import Optional

from asrx_cli.audio.raw import ByteReader
from asrx_cli.config import MAX_CHANNELS, MAX_SAMPLE_RATE, RawFormat
from asrx_cli.errors import AudioError


@dataclasses.dataclass
class WavHeader:
    format: RawFormat
    data_offset: int
    data_size: Optional[int]  # None when the writer left it open (streaming)


WAVE_FORMAT_PCM, WAVE_FORMAT_FLOAT, WAVE_FORMAT_EXTENSIBLE = 1, 3, 0xFFFE
# Streaming writers (arecord, sox) put 0 or a huge placeholder where the data size goes.
PLACEHOLDER_SIZE = 0x7F000000
# A format chunk is 16 to 40 bytes; anything this long is not one, and is not kept in memory.
MAX_FMT_CHUNK_BYTES = 4096


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
        if chunk_id == b"fmt ":
            if size > MAX_FMT_CHUNK_BYTES:
                raise AudioError(f"{name}: WAV format chunk of {size} bytes is not a format chunk")
            body = reader.read_exactly(size + size % 2)
            offset += len(body)
            fmt = _parse_fmt_chunk(body, name)
        else:  # other chunks (LIST, fact...) are skipped, not kept, whatever size they claim
            offset += reader.skip(size + size % 2)


def _parse_fmt_chunk(body: bytes, name: str) -> RawFormat:
    if len(body) < 16:
        raise AudioError(f"{name}: WAV format chunk is too short")
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == WAVE_FORMAT_EXTENSIBLE and len(body) >= 26:
        tag = struct.unpack("<H", body[24:26])[0]
    formats = {
        (WAVE_FORMAT_PCM, 8): "u8", (WAVE_FORMAT_PCM, 16): "s16le", (WAVE_FORMAT_PCM, 24): "s24le",
        (WAVE_FORMAT_PCM, 32): "s32le",
        (WAVE_FORMAT_FLOAT, 32): "f32le", (WAVE_FORMAT_FLOAT, 64): "f64le",
    }
    sample_format = formats.get((tag, bits))
    if sample_format is None:
        raise AudioError(f"{name}: unsupported WAV encoding (format {tag}, {bits} bits)")
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(f"{name}: the WAV header says {channels} channels "
                         f"(1 to {MAX_CHANNELS} are supported)")
    if not 1 <= rate <= MAX_SAMPLE_RATE:
        raise AudioError(f"{name}: the WAV header says {rate} Hz "
                         f"(1 to {MAX_SAMPLE_RATE} Hz are supported)")
    return RawFormat(rate=rate, channels=channels, sample_format=sample_format)
