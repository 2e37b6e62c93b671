"""Audio sources: decode, downmix, resample and convert to 16 kHz mono s16le.

Every source is read block by block, so memory stays flat whatever the length
of the input. Blocks come out as s16le bytes of any length; the decoder
thread (readahead.py) cuts them into frames. One module per kind of source
(file, raw, stdin, microphone), beside the conversion they share and the
voice-activity detector that runs on the same thread (vad.py, tracked.py).
"""

import threading
from pathlib import Path
from typing import BinaryIO

from asrx_cli.audio.convert import Converter, decode_raw, downmix, float_to_s16  # noqa: F401
from asrx_cli.audio.file import open_sound_file
from asrx_cli.audio.names import RAW_SUFFIXES
from asrx_cli.audio.raw import ByteReader, open_raw_file, raw_blocks  # noqa: F401
from asrx_cli.audio.source import AudioSource
from asrx_cli.audio.stdin import open_stdin
from asrx_cli.audio.wav import read_wav_header  # noqa: F401
from asrx_cli.config import RawFormat
from asrx_cli.errors import AudioError


def open_source(path: str, raw_format: RawFormat, raw_format_given: bool,
                stdin: BinaryIO, stop: threading.Event, start: float = 0.0,
                split: bool = False) -> AudioSource:
    """The source `path` names; a file from `start` seconds on (stdin cannot go back or ahead).

    `split`: a source of several channels keeps them apart (AudioSource.channels).
    """
    if path == "-":
        return open_stdin(stdin, raw_format, stop, split)
    if Path(path).suffix.lower() in RAW_SUFFIXES:
        return open_raw_file(path, raw_format, start, split)
    if raw_format_given:
        raise AudioError(f"{path}: --raw-* options apply to .pcm/.raw files and stdin only")
    return open_sound_file(path, start, split)
