"""Test audio whose speech boundaries are known: real utterances, known silences between.

Each recording (pocketsphinx-testdata, espeak-ng) is trimmed once to its
speech: the first to the last run of three 10 ms frames at least 12 dB above
the recording's own noise floor (its 10th percentile frame energy). The trimmed
utterances are laid out with silences of chosen lengths between them, and a
faint seeded noise bed runs under the whole stream, so the silences are not
digital zeros. Where each utterance was put is the ground truth.
"""

import dataclasses
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np
import soundfile

from tests.support.speech import GOFORWARD, LIBRIVOX, NUMBERS, SOMETHING, read_pcm

RATE = 16000
FRAME = RATE // 100  # 10 ms
ABOVE_FLOOR_DB = 12.0
RUN_FRAMES = 3
NOISE_RMS = 30.0  # about -61 dBFS, like a quiet room through a cheap microphone

ESPEAK_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call me back tomorrow morning.",
]


@dataclasses.dataclass
class Utterance:
    name: str
    text: str
    samples: np.ndarray  # int16, trimmed to its speech


@dataclasses.dataclass
class Layout:
    pcm: bytes
    truth: List[Tuple[float, float]]  # (onset, offset) of each utterance, seconds
    texts: List[str]

    @property
    def seconds(self) -> float:
        return len(self.pcm) / (2 * RATE)


def speech_extent(samples: np.ndarray) -> Tuple[int, int]:
    """First and last sample of the speech in a recording (see the module's docstring)."""
    frames = len(samples) // FRAME
    power = (samples[:frames * FRAME].astype(np.float64).reshape(frames, FRAME) ** 2).mean(axis=1)
    level = 10 * np.log10(power + 1.0)
    loud = level > np.percentile(level, 10) + ABOVE_FLOOR_DB
    runs = np.convolve(loud, np.ones(RUN_FRAMES), mode="valid") == RUN_FRAMES
    starts = np.flatnonzero(runs)
    if not len(starts):
        raise ValueError("no speech found")
    return int(starts[0]) * FRAME, (int(starts[-1]) + RUN_FRAMES) * FRAME


def trimmed(name: str, text: str, samples: np.ndarray) -> Utterance:
    first, last = speech_extent(samples)
    return Utterance(name, text, samples[first:last])


def recording(path: Path, text: str) -> Utterance:
    return trimmed(path.stem, text, np.frombuffer(read_pcm(path), "<i2"))


def espeak(text: str, voice: str = "en-us", words_per_minute: int = 175) -> Utterance:
    """A sentence spoken by espeak-ng, at 16 kHz."""
    import soxr

    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        command = ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-w", str(wav), text]
        subprocess.run(command, check=True, capture_output=True)
        data, rate = soundfile.read(str(wav), dtype="float32")
    samples = soxr.resample(data, rate, RATE) if rate != RATE else data
    return trimmed(f"espeak:{text[:12]}", text,
                   np.clip(samples * 32768, -32768, 32767).astype(np.int16))


def layout(utterances: Sequence[Utterance], silences: Sequence[float], seed: int = 7) -> Layout:
    """silences[0] before the first utterance, silences[i] after utterance i-1."""
    assert len(silences) == len(utterances) + 1
    parts, truth, position = [], [], 0
    for utterance, silence in zip(utterances, silences):
        gap = np.zeros(int(silence * RATE), np.int16)
        parts += [gap, utterance.samples]
        onset = position + len(gap)
        position = onset + len(utterance.samples)
        truth.append((onset / RATE, position / RATE))
    parts.append(np.zeros(int(silences[-1] * RATE), np.int16))
    signal = np.concatenate(parts).astype(np.float64)
    signal += np.random.default_rng(seed).normal(0.0, NOISE_RMS, len(signal))
    pcm = np.clip(np.rint(signal), -32768, 32767).astype("<i2").tobytes()
    return Layout(pcm, truth, [u.text for u in utterances])


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def standard_utterances() -> List[Utterance]:
    """Three testdata recordings and a LibriVox line, then two espeak-ng sentences."""
    chosen = [
        recording(GOFORWARD, "go forward ten meters"),
        recording(SOMETHING, "go somewhere and do something"),
        recording(NUMBERS, "numbers"),
        recording(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0930.wav",
                  "he might even have been made amiable himself"),
    ]
    if have_espeak():
        chosen += [espeak(text) for text in ESPEAK_SENTENCES]
    return chosen


STANDARD_SILENCES = [1.2, 1.0, 1.5, 0.9, 1.3, 1.1, 1.0]


def standard_layout() -> Layout:
    """The standard utterances with the standard silences between them."""
    utterances = standard_utterances()
    return layout(utterances, STANDARD_SILENCES[:len(utterances) + 1])
