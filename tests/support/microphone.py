"""What a test of the microphone needs on this machine."""

import ctypes.util
import os

import pytest

from tests.support.run import ASRX

MICROPHONE_REQUIREMENTS = [
    pytest.mark.skipif(not os.path.exists(ASRX), reason=f"asrx is not installed at {ASRX}"),
    pytest.mark.skipif(ctypes.util.find_library("portaudio") is None,
                       reason="the PortAudio library is not installed (Debian: libportaudio2)"),
    pytest.mark.skipif(ctypes.util.find_library("asound") is None, reason="ALSA is not installed"),
]
