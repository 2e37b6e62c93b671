"""stdin: headerless PCM, or a WAV stream as arecord and sox write it."""

import threading
from typing import BinaryIO

from asrx_cli.audio.raw import ByteReader, raw_blocks
from asrx_cli.audio.source import AudioSource, describe, duration_of
from asrx_cli.audio.wav import read_wav_header
from asrx_cli.config import RawFormat
from asrx_cli.errors import AudioError

# Signatures of containers that only work from a seekable file.
CONTAINER_MAGIC = {b"fLaC": "FLAC", b"OggS": "Ogg", b"ID3": "MP3", b"FORM": "AIFF"}


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
        return AudioSource(f"stdin (WAV, {describe(header.format)})",
                           duration_of(header.data_size, header.format),
                           raw_blocks(reader, header.format, header.data_size))
    return AudioSource(f"stdin (raw {describe(raw_format)})", None, raw_blocks(reader, raw_format))
