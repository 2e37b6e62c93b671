"""Tone bursts, and a listener that names each burst after the audio it heard of it.

A burst of a tone is a sentence: the listener (for the scripted server,
`Script.listener`) opens a sentence when a burst begins, says its name and
how much of it it has heard so far while it goes on, and names it in full,
`<word for its pitch> <tenths of a second heard>`, once a pause ends it; the
next burst's first words close it (NewSentence), as a real server does. So a
replay that starts late changes the words ("bravo 14" for "bravo 30"), and
one that starts early repeats a sentence: both show in the transcript.

The speech detector mostly hears no speech in a pure tone: these are the
sounds on which the replay cannot lean on it.
"""

from typing import List, Sequence, Tuple

import numpy as np

from asrx_cli.wire import BYTES_PER_SECOND
from tests.support.scripted import new_sentence, sentence

RATE = 16000
WINDOW = 160  # samples: 10 ms
PAUSE_WINDOWS = 30  # a pause of 0.3 s ends a burst
PARTIAL_WINDOWS = 50  # a partial every 0.5 s of a burst
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
         "juliett"]
PITCH_STEP = 150.0  # Hz between the words' pitches, from the first
FIRST_PITCH = 300.0


# (word, seconds, pause after): long and short sentences, short and long pauses.
PLAN = [(1, 3.0, 0.8), (2, 5.0, 0.6), (3, 1.5, 1.2), (4, 4.0, 0.5), (5, 2.0, 0.9), (6, 2.5, 1.0)]


def pitch_of(word: int) -> float:
    return FIRST_PITCH + PITCH_STEP * word


def bursts(plan: Sequence[Tuple[int, float, float]], lead: float = 0.5, wobble: float = 0.0,
           seed: int = 5) -> Tuple[bytes, List[str]]:
    """16 kHz s16le audio of bursts (word, seconds, pause after) and the names a full hearing gives.

    `wobble`: a slow vibrato and swell, so that the tone sounds more like an instrument than a beep.
    """
    random = np.random.default_rng(seed)
    parts, names = [np.zeros(int(lead * RATE))], []
    for word, seconds, pause in plan:
        t = np.arange(int(seconds * RATE)) / RATE
        pitch = pitch_of(word) * (1 + wobble * 0.02 * np.sin(2 * np.pi * 5 * t))
        phase = 2 * np.pi * np.cumsum(pitch) / RATE
        swell = 1 - wobble * 0.4 * (0.5 + 0.5 * np.sin(2 * np.pi * 0.7 * t + random.uniform(0, 6)))
        parts += [0.3 * swell * np.sin(phase), np.zeros(int(pause * RATE))]
        names.append(f"{WORDS[word]} {int(round(seconds * 10))}")
    return (np.concatenate(parts) * 32767).astype("<i2").tobytes(), names


class BurstListener:
    """One connection's ear: audio in, the scripted server's messages out."""

    def __init__(self):
        self.pending = b""
        self.sentences = 0
        self.word = None  # the burst under way: its word
        self.heard = 0  # windows of it heard
        self.quiet = 0  # windows of quiet since its last sound

    def __call__(self, audio: bytes) -> List[dict]:
        self.pending += audio
        messages = []
        size = WINDOW * 2
        while len(self.pending) >= size:
            window = np.frombuffer(self.pending[:size], dtype="<i2").astype(np.float64)
            self.pending = self.pending[size:]
            messages += self._window(window)
        return messages

    def _window(self, window: np.ndarray) -> List[dict]:
        loud = np.sqrt(np.mean(window ** 2)) > 1000
        if self.word is None:
            if not loud:
                self.heard = 0
                return []
            self.heard += 1
            if self.heard < 3:  # the first window may hold the onset: the pitch from a later one
                return []
            self.word, self.quiet = self._word(window), 0
            opening = new_sentence if self.sentences else sentence
            self.sentences += 1
            return [opening(WORDS[self.word])]
        if loud:
            self.heard += 1 + self.quiet
            self.quiet = 0
            if self.heard % PARTIAL_WINDOWS == 0:
                return [sentence(self._name())]
            return []
        self.quiet += 1
        if self.quiet < PAUSE_WINDOWS:
            return []
        name, self.word = self._name(), None
        return [sentence(name)]

    def _name(self) -> str:
        return f"{WORDS[self.word]} {int(round(self.heard * WINDOW / RATE * 10))}"

    @staticmethod
    def _word(window: np.ndarray) -> int:
        crossings = np.count_nonzero(np.diff(np.signbit(window)))
        pitch = crossings / 2 / (len(window) / RATE)
        return int(np.clip(round((pitch - FIRST_PITCH) / PITCH_STEP), 0, len(WORDS) - 1))


def seconds_of(pcm: bytes) -> float:
    return len(pcm) / BYTES_PER_SECOND
