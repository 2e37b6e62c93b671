import pytest

from tests.support.calls import stereo_noise


@pytest.fixture
def stereo():
    """Two different noises, a channel each, as 16 kHz s16le (tests/support/calls.py)."""
    return stereo_noise()
