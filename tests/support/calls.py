"""Call recordings for tests: two channels, and a server that says which one it heard."""

import numpy as np

from tests.support.audio import noise
from tests.support.scripted import Script, new_sentence

STEREO_SECONDS = 2.0


def stereo_noise():
    """Two different noises, a channel each, as 16 kHz s16le."""
    return noise(STEREO_SECONDS, channels=2, seed=5)


def heard(channels):
    """The script's answer: which channel the session's audio is, as far as it went."""
    def answer(record):
        audio = bytes(record.audio)
        for name, channel in zip(("left", "right"), channels):
            if audio and channel.startswith(audio):
                return [new_sentence(f"{name} {len(audio)}")]
        return [new_sentence("mixed")]

    return Script(answer=answer)


def channel_bytes(samples):
    """Each channel of (frames, 2) int16 samples as 16 kHz s16le bytes."""
    return [np.ascontiguousarray(samples[:, index]).astype("<i2").tobytes() for index in range(2)]
