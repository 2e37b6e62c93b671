"""stdin: headerless PCM, or a WAV stream as arecord and sox write it.

What arrives is checked as a file is, only later: a stream that ends before
its first sample, or before the size its WAV header declares, is transcribed
as far as it goes and then reported (exit 3), unless the user stopped it.
"""

import threading
from typing import BinaryIO, Optional

from asrx_cli.audio.convert import RAW_WIDTHS
from asrx_cli.audio.raw import ByteReader, raw_blocks
from asrx_cli.audio.source import AudioSource, Blocks, describe, duration_of, truncated
from asrx_cli.audio.wav import read_wav_header
from asrx_cli.config import RawFormat
from asrx_cli.errors import AudioError

# Signatures of containers that only work from a seekable file.
CONTAINER_MAGIC = {b"fLaC": "FLAC", b"OggS": "Ogg", b"ID3": "MP3", b"FORM": "AIFF"}


def open_stdin(stdin: BinaryIO, raw_format: RawFormat, stop: threading.Event,
               split: bool = False) -> AudioSource:
    """`split`: the channels kept apart (AudioSource.channels), else mixed down to one."""
    reader = ByteReader(stdin, stop)
    head = reader.read_exactly(12)
    if not head:
        raise AudioError("stdin: no audio (empty input)")
    reader.push_back(head)
    for magic, container in CONTAINER_MAGIC.items():
        if head.startswith(magic):
            raise AudioError(f"stdin: {container} data can only be read from a file; "
                             "give its path instead of -")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        header = read_wav_header(reader, "stdin")
        return AudioSource(f"stdin (WAV, {describe(header.format)})",
                           duration_of(header.data_size, header.format),
                           _checked_blocks(reader, header.format, header.data_size, split),
                           channels=header.format.channels if split else 1)
    return AudioSource(f"stdin (raw {describe(raw_format)})", None,
                       _checked_blocks(reader, raw_format, None, split),
                       channels=raw_format.channels if split else 1)


def _checked_blocks(reader: ByteReader, fmt: RawFormat, declared: Optional[int],
                    split: bool) -> Blocks:
    """The stream's blocks; then, unless stopped, an error if it held no sample or less than
    declared."""
    start = reader.position
    yield from raw_blocks(reader, fmt, declared, split=split)
    if reader.stop.is_set():
        return
    got = reader.position - start
    if declared is not None and got < declared:
        raise truncated("stdin", duration_of(got, fmt) or 0.0, duration_of(declared, fmt) or 0.0)
    if got < RAW_WIDTHS[fmt.sample_format] * fmt.channels:
        raise AudioError("stdin: no audio (the stream ends before its first sample)")
