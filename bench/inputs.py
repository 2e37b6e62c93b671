"""Generated test audio: a voice-like signal (harmonics, syllables, a little noise), so that FLAC
costs what speech costs; written block by block: a 3-hour file needs no 3 hours of memory."""

from pathlib import Path

import numpy as np
import soundfile

from asrx_cli.wire import SAMPLE_RATE

CYCLE_SECONDS = 60  # long inputs repeat a one-minute cycle: writing them costs disk time only


def _blocks(seconds: float, rate: int):
    """The signal at `rate`, floats in [-1, 1), in blocks of at most one cycle."""
    t = np.arange(int(min(seconds, CYCLE_SECONDS) * rate)) / rate
    phase = 2 * np.pi * np.cumsum(140 + 30 * np.sin(2 * np.pi * 0.3 * t)) / rate  # pitch 110-170 Hz
    voice = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 2  # syllables, with pauses
    noise = np.random.default_rng(0).standard_normal(len(t)) * 0.01
    cycle, total = (0.25 * voice * envelope + noise).astype(np.float32), int(seconds * rate)
    for start in range(0, total, len(cycle)):
        yield cycle[:total - start]


def write(path: Path, seconds: float, rate: int = SAMPLE_RATE, channels: int = 1) -> str:
    """A 16-bit WAV, FLAC or headerless .raw (the one format both clients read); extra channels
    are delayed copies."""
    endian = "LITTLE" if Path(path).suffix == ".raw" else "FILE"
    with soundfile.SoundFile(path, "w", rate, channels, "PCM_16", endian=endian) as out:
        for block in _blocks(seconds, rate):
            out.write(np.stack([np.roll(block, 7 * n) for n in range(channels)], axis=1))
    return str(path)
