"""Real speech for `asrx serve`: Debian's pocketsphinx-testdata recordings, with where speech ends.

The end of speech is estimated from energy: the end of the last 10 ms frame
louder than both 12 dB over the recording's noise floor (its 10th
percentile) and 40 dB under its loudest frame. Silence is appended to each
recording, as a speaker who stops talking leaves the microphone open.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import List

import numpy as np

TESTDATA = Path(os.environ.get("POCKETSPHINX_TESTDATA", "/usr/share/pocketsphinx/test/data"))
RATE = 16000
ENERGY_FRAME = 160  # 10 ms
OVER_NOISE_FLOOR_DB = 12
UNDER_PEAK_DB = 40


@dataclass
class Utterance:
    name: str
    pcm: bytes  # 16 kHz mono s16le: the recording, then the appended silence
    speech_end: float  # seconds into pcm where the last word ends

    @property
    def seconds(self) -> float:
        return len(self.pcm) / (2 * RATE)


def recordings() -> List[Path]:
    return sorted((TESTDATA / "librivox").glob("*.wav")) + [
        path for path in (TESTDATA / name for name in ("goforward.raw", "something.raw", "numbers.raw"))
        if path.exists()]


def read_samples(path: Path) -> np.ndarray:
    if path.suffix == ".raw":
        return np.fromfile(path, dtype="<i2")
    import soundfile

    samples, rate = soundfile.read(str(path), dtype="int16")
    if rate != RATE or samples.ndim != 1:
        raise ValueError(f"{path}: expected 16 kHz mono")
    return samples


def speech_end(samples: np.ndarray) -> float:
    frames = len(samples) // ENERGY_FRAME
    power = (samples[:frames * ENERGY_FRAME].astype(np.float64).reshape(frames, ENERGY_FRAME) ** 2).mean(axis=1)
    level = 10 * np.log10(power + 1.0)
    threshold = max(np.percentile(level, 10) + OVER_NOISE_FLOOR_DB, level.max() - UNDER_PEAK_DB)
    loud = np.nonzero(level > threshold)[0]
    return (loud[-1] + 1) * ENERGY_FRAME / RATE


def load(trailing_silence: float) -> List[Utterance]:
    utterances = []
    for path in recordings():
        samples = read_samples(path)
        silence = np.zeros(int(trailing_silence * RATE), dtype="<i2")
        utterances.append(Utterance(path.name, np.concatenate([samples, silence]).astype("<i2").tobytes(),
                                    speech_end(samples)))
    return utterances
