"""Generated test audio: written block by block, so a 3-hour file needs no 3 hours of memory.

The signal is a voice-like mix (a few harmonics with a syllable-rate
envelope, plus a little noise), deterministic for a given length, so that
compressed formats (FLAC) cost about what speech costs.
"""

from pathlib import Path

import numpy as np
import soundfile

from asrx_cli.wire import SAMPLE_RATE

BLOCK_SECONDS = 10
CYCLE_SECONDS = 60  # long inputs repeat a one-minute cycle: writing them costs disk time only


def voice_like(start: int, count: int, rate: int) -> np.ndarray:
    """Samples start..start+count of the signal at `rate`, floats in [-1, 1)."""
    t = (start + np.arange(count)) / rate
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.3 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate + 2 * np.pi * 140 * start / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 2  # syllables, with pauses
    noise = np.random.default_rng(start).standard_normal(count) * 0.01
    return (0.25 * voice * envelope + noise).astype(np.float32)


def _blocks(seconds: float, rate: int):
    total, step, cycle = int(seconds * rate), BLOCK_SECONDS * rate, CYCLE_SECONDS * rate
    cached = {}
    for start in range(0, total, step):
        count = min(step, total - start)
        key = (start % cycle, count)
        if key not in cached:
            cached[key] = voice_like(start % cycle, count, rate)
        yield cached[key]


def write_raw(path: Path, seconds: float) -> Path:
    """Headerless 16 kHz mono s16le, the one format both clients read."""
    with open(path, "wb") as out:
        for block in _blocks(seconds, SAMPLE_RATE):
            out.write(np.rint(block * 32767).astype("<i2").tobytes())
    return path


def write_sound_file(path: Path, seconds: float, rate: int = SAMPLE_RATE, channels: int = 1) -> Path:
    """A WAV, FLAC... file (format from the suffix); extra channels are delayed copies."""
    with soundfile.SoundFile(str(path), "w", samplerate=rate, channels=channels) as out:
        for block in _blocks(seconds, rate):
            frames = np.stack([np.roll(block, 7 * c) for c in range(channels)], axis=1)
            out.write(frames)
    return path
