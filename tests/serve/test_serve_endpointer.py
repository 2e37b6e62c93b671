"""The server's endpointer: PocketSphinx's decisions, without its leak."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asrx_cli.server.endpointer import Endpointer
from tests.support.speech import (
    GOFORWARD,
    NUMBERS,
    SOMETHING,
    librivox_transcripts,
    needs_testdata,
    read_pcm,
    silence,
)

pytestmark = needs_testdata


def decisions(endpointer, pcm, end_at=None):
    """What the endpointer returns and says for each frame, then for the end of the stream."""
    size = endpointer.frame_bytes
    usable = len(pcm) - len(pcm) % size
    out = [(endpointer.process(pcm[i:i + size]), endpointer.in_speech,
            round(endpointer.speech_start, 6) if endpointer.in_speech else None)
           for i in range(0, usable, size)]
    return out + [endpointer.end_stream(pcm[usable:] or bytes(2))]


def reference():
    from pocketsphinx import Endpointer as PocketSphinxEndpointer

    return PocketSphinxEndpointer(sample_rate=16000)


RECORDINGS = [GOFORWARD, SOMETHING, NUMBERS, *sorted(librivox_transcripts())[:2]]


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda path: path.name)
@pytest.mark.parametrize("cut", [1.0, 0.55, 0.3])  # whole, or stopped mid-word
def test_it_decides_frame_for_frame_as_pocketsphinx_does(path, cut):
    pcm = read_pcm(path)
    pcm = pcm[: int(len(pcm) * cut) & ~1]
    assert decisions(Endpointer(), pcm) == decisions(reference(), pcm)


SPEECH = read_pcm(GOFORWARD) if GOFORWARD.exists() else b""


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["speech", "silence"]), st.integers(1, 40000)),
                max_size=8))
def test_it_decides_as_pocketsphinx_does_on_any_mix_of_speech_and_silence(pieces):
    pcm, position = b"", 0
    for kind, length in pieces:
        if kind == "silence":
            pcm += silence(length / 32000)
        else:
            pcm += SPEECH[position:position + length]
            position = (position + length) % len(SPEECH)
    pcm = pcm[: len(pcm) & ~1]
    assert decisions(Endpointer(), pcm) == decisions(reference(), pcm)
