"""Speech as users have it: under white noise, through a telephone line, with music under it.

Each takes and gives 16 kHz mono s16le. The noise is measured against the
speech alone (its samples louder than the quiet between utterances), so
"0 dB" is as loud as the talker. And what a run with cuts did to the words,
against the sentences an undisturbed run gave.
"""

import difflib
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import soxr

from tests.support.speech import exchange_audio

RATE = 16000
PHONE_RATE = 8000
PHONE_BAND = (300.0, 3400.0)  # Hz: what a telephone line carries


def samples_of(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, "<i2").astype(np.float64)


def pcm_of(samples: np.ndarray) -> bytes:
    return np.clip(np.rint(samples), -32768, 32767).astype("<i2").tobytes()


def speech_power(samples: np.ndarray) -> float:
    """The mean power of the 10 ms frames that hold speech (above a tenth of the loudest's RMS)."""
    frames = samples[:len(samples) // 160 * 160].reshape(-1, 160)
    power = (frames ** 2).mean(axis=1)
    return float(power[power > power.max() / 100].mean())


def white_noise(pcm: bytes, snr_db: float, seed: int = 11) -> bytes:
    samples = samples_of(pcm)
    rms = np.sqrt(speech_power(samples) / 10 ** (snr_db / 10))
    return pcm_of(samples + np.random.default_rng(seed).normal(0.0, rms, len(samples)))


def telephone(pcm: bytes) -> bytes:
    """Band-limited to 300-3400 Hz, sampled at 8 kHz, and brought back to 16 kHz."""
    samples = samples_of(pcm)
    spectrum = np.fft.rfft(samples)
    hz = np.fft.rfftfreq(len(samples), 1 / RATE)
    spectrum[(hz < PHONE_BAND[0]) | (hz > PHONE_BAND[1])] = 0
    line = soxr.resample(np.fft.irfft(spectrum, len(samples)), RATE, PHONE_RATE)
    return pcm_of(soxr.resample(np.rint(line), PHONE_RATE, RATE))


def music_under(pcm: bytes, below_db: float = 12.0, seed: int = 13) -> bytes:
    """Slowly changing three-note chords with vibrato, `below_db` under the speech, throughout."""
    samples = samples_of(pcm)
    random = np.random.default_rng(seed)
    t = np.arange(len(samples)) / RATE
    chord_of = (t // 1.7).astype(int)  # a new chord every 1.7 s
    roots = 110.0 * 2 ** (random.integers(0, 12, chord_of.max() + 1) / 12)
    music = np.zeros(len(samples))
    for ratio in (1.0, 1.26, 1.5):  # a major triad
        pitch = roots[chord_of] * ratio * 2 * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))
        music += np.sin(2 * np.pi * np.cumsum(pitch) / RATE)
    music *= np.sqrt(speech_power(samples) / np.mean(music ** 2) / 10 ** (below_db / 10))
    return pcm_of(samples + music)


CONDITIONS: Dict[str, Callable[[bytes], bytes]] = {
    "noise 10 dB": lambda pcm: white_noise(pcm, 10.0),
    "noise 0 dB": lambda pcm: white_noise(pcm, 0.0),
    "telephone": telephone,
    "music": music_under,
}


def words_lost_and_added(calm: Sequence[str], cut: Sequence[str]) -> Tuple[int, int, int]:
    """Words of `calm` with no counterpart in `cut`, words of `cut` with none in `calm`, and words
    recognised otherwise (each word list aligned to the other)."""
    lost = added = changed = 0
    matcher = difflib.SequenceMatcher(a=list(calm), b=list(cut), autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op != "equal":
            changed += min(a2 - a1, b2 - b1)
            lost += max(0, (a2 - a1) - (b2 - b1))
            added += max(0, (b2 - b1) - (a2 - a1))
    return lost, added, changed


def sentence_damage(heard: Sequence[Sequence[str]], cut: Sequence[str]) -> Tuple[int, int]:
    """Words lost and repeated by a run with cuts whose sentences are `cut`.

    `heard[i]`: what sentence i may honestly be, as the undisturbed run gave
    it and as the engine gives it heard whole in a session of its own (what a
    replay makes of it). With as many sentences, each is held against the
    nearer of those; otherwise all the words against the undisturbed run's.
    """
    if len(heard) != len(cut):
        return words_lost_and_added(" ".join(ways[0] for ways in heard).split(),
                                    " ".join(cut).split())[:2]
    lost = added = 0
    for ways, text in zip(heard, cut):
        best = min((words_lost_and_added(way.split(), text.split()) for way in ways),
                   key=lambda found: found[0] + found[1])
        lost, added = lost + best[0], added + best[1]
    return lost, added


def honest_ways(url: str, key: str, pcm: bytes, calm: Sequence[str],
                events: List[dict]) -> List[tuple]:
    """What each sentence may honestly be: the undisturbed run's words, or the engine's for it in a
    session that starts where a replay started (sentences counted from the end: the first of
    such a session may be the end of one already final, said again)."""
    ways = [[text] for text in calm]
    for replay in (event for event in events if event["type"] == "reconnect" and calm):
        start = int(replay["replay_from"] * RATE) * 2
        again = exchange_audio(url, pcm[start:], api_key=key, frame_bytes=3200).sentences()
        for n, text in enumerate(reversed(again[-len(calm):]), 1):
            ways[-n].append(text)
    return [tuple(found) for found in ways]


def sentences(events: List[dict]) -> List[str]:
    return [event["text"] for event in events if event["type"] == "final"]
