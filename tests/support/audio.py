"""Audio for tests: noise, tones, files, and how close two signals are."""

import numpy as np
import soundfile


def noise(seconds: float, rate: int = 16000, channels: int = 1, seed: int = 1) -> np.ndarray:
    """Full-scale-ish int16 noise: every sample counts in an exactness test."""
    generator = np.random.default_rng(seed)
    shape = (int(seconds * rate), channels) if channels > 1 else (int(seconds * rate),)
    return generator.integers(-20000, 20000, size=shape, dtype=np.int16)


def tones(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    """A mix of tones well inside 8 kHz, float32 in [-0.8, 0.8]."""
    t = np.arange(int(seconds * rate)) / rate
    mono = (0.4 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 1234.5 * t)
            + 0.1 * np.sin(2 * np.pi * 3000 * t))
    if channels == 1:
        return mono.astype(np.float32)
    return np.stack([mono * (1 - 0.1 * c) for c in range(channels)], axis=1).astype(np.float32)


def write_audio(path, data, rate, **options):
    soundfile.write(str(path), data, rate, **options)
    return str(path)


def snr_db(reference: np.ndarray, signal: np.ndarray) -> float:
    n = min(len(reference), len(signal))
    reference, signal = reference[:n].astype(np.float64), signal[:n].astype(np.float64)
    return 10 * np.log10(np.sum(reference ** 2) / np.sum((reference - signal) ** 2))


def read_wav(path):
    samples, rate = soundfile.read(str(path), dtype="int16")
    info = soundfile.info(str(path))
    assert (rate, info.channels, info.subtype, info.format) == (16000, 1, "PCM_16", "WAV")
    return samples.tobytes()
