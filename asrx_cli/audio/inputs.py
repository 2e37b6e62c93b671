"""The input a run's settings name: a file, stdin or the microphone, for at most --duration."""

import dataclasses
import threading
from typing import BinaryIO, Callable, Optional

from asrx_cli.audio import open_source
from asrx_cli.audio.microphone import LevelCallback, open_microphone
from asrx_cli.audio.source import AudioSource, Blocks
from asrx_cli.config import TranscribeConfig
from asrx_cli.errors import AudioError
from asrx_cli.wire import BYTES_PER_SECOND, SAMPLE_WIDTH


def open_input(config: TranscribeConfig, stdin: BinaryIO, stop: threading.Event,
               on_level: Optional[LevelCallback] = None, start: float = 0.0) -> AudioSource:
    """The input; a file from `start` seconds on (a resumed transcription)."""
    if config.duration is not None and _whole_samples(config.duration) == 0:
        raise AudioError(f"no audio: --duration {config.duration:g} is less than one sample")
    split = config.channels == "split"
    if config.mic:
        # The channels named, else two (a call: agent and customer).
        wanted = (len(config.channel_names) or 2) if split else 0
        source = open_microphone(config.device, stop, on_level, wanted)
    else:
        assert config.audio is not None  # a file or "-" where there is no --mic
        source = open_source(config.audio, config.raw_format, config.raw_format_given, stdin, stop,
                             start, split)
    if config.duration is None:
        return source
    # A live source keeps an unknown length: no progress bar beside its level meter.
    duration = None if source.duration is None else min(source.duration, config.duration)
    return dataclasses.replace(source, duration=duration,
                               blocks=first_seconds(source.blocks, config.duration,
                                                    source.channels))


def first_seconds(blocks: Blocks, seconds: float, channels: int = 1) -> Blocks:
    """The first `seconds` of a stream of 16 kHz s16le blocks; nothing read beyond them."""
    remaining = _whole_samples(seconds) * SAMPLE_WIDTH * channels
    try:
        while remaining > 0:
            block = next(blocks, None)
            if block is None:
                return
            yield block[:remaining]
            remaining -= len(block)
    finally:
        blocks.close()


def _whole_samples(seconds: float) -> int:
    return int(round(seconds * BYTES_PER_SECOND / SAMPLE_WIDTH))


def counted(blocks: Blocks, on_audio: Callable[[int], None],
            channels: int = 1) -> Blocks:
    """The same blocks; `on_audio` hears the size of each as it is read, as if it were mono."""
    try:
        for block in blocks:
            on_audio(len(block) // channels)
            yield block
    finally:
        blocks.close()
