"""The PocketSphinx engine of `asrx serve` on real speech: the mean that primes a session, and how
much of its opening one call decodes."""

import pytest

from asrx_cli.server.engines.pocketsphinx import (
    CATCH_UP_RATE,
    DECODER_SETTINGS,
    PRIMING_BYTES,
    CepstralMean,
    PocketSphinxRecognizer,
)
from asrx_cli.wire import BYTES_PER_SECOND
from tests.support.speech import librivox_transcripts, needs_testdata, read_pcm

pytestmark = needs_testdata
FRAME_BYTES = 960  # the endpointer's 30 ms, as the transcriber hands audio over
FRAMES_PER_SECOND = 100  # PocketSphinx's


@pytest.fixture(scope="module")
def recording() -> bytes:
    return read_pcm(sorted(librivox_transcripts())[0])


@pytest.fixture(scope="module")
def decoders():
    """Two decoders (one for the engine, one for offline decodes): each takes 0.3 s to build."""
    import pocketsphinx

    return [pocketsphinx.Decoder(**DECODER_SETTINGS) for _ in range(2)]


def offline_decode(decoder, pcm: bytes):
    """As an offline decode does it: the audio as one block, normalised by its own mean."""
    decoder.reinit_feat()
    decoder.start_utt()
    decoder.process_raw(pcm, False, True)
    decoder.end_utt()


def recognizer(decoder) -> PocketSphinxRecognizer:
    decoder.reinit_feat()  # as the engine hands a decoder over
    return PocketSphinxRecognizer(decoder, CepstralMean(), lambda _: None)


def test_the_opening_mean_is_the_one_an_offline_decode_uses(recording, decoders):
    opening, offline = recording[:PRIMING_BYTES], decoders[1]
    offline_decode(offline, opening)
    mean = CepstralMean()
    assert mean.of(opening) == offline.get_cmn(False)
    assert mean.of(recording[PRIMING_BYTES:2 * PRIMING_BYTES]) != offline.get_cmn(False)


def test_the_opening_is_decoded_once_a_little_with_each_piece_of_audio(recording, decoders):
    decoder = decoders[0]
    engine = recognizer(decoder)
    engine.start_utterance()
    searched, partials = [], []
    for offset in range(0, len(recording), FRAME_BYTES):
        before = decoder.n_frames()
        engine.accept(recording[offset:offset + FRAME_BYTES])
        searched.append(decoder.n_frames() - before)
        partials.append(engine.hypothesis())
    text = engine.end_utterance()
    engine.close()
    assert min(searched) >= 0  # the decoder never started the utterance again
    most = (1 + CATCH_UP_RATE) * FRAME_BYTES * FRAMES_PER_SECOND // BYTES_PER_SECOND
    assert max(searched) <= most + 1  # never the whole opening in one call
    frames = len(recording) * FRAMES_PER_SECOND // BYTES_PER_SECOND
    assert frames - 5 <= decoder.n_frames() <= frames + 1  # each frame searched once
    opening_pieces = PRIMING_BYTES // FRAME_BYTES
    assert not any(partials[:opening_pieces]) and partials[-1]  # no guess before the mean is known
    assert "leisure to consider how" in text


def test_a_first_utterance_shorter_than_the_opening_is_heard_as_an_offline_decode_hears_it(
        recording, decoders):
    short, offline = recording[:PRIMING_BYTES * 3 // 4], decoders[1]
    offline_decode(offline, short)
    engine = recognizer(decoders[0])
    engine.start_utterance()
    for offset in range(0, len(short), FRAME_BYTES):
        engine.accept(short[offset:offset + FRAME_BYTES])
    text = engine.end_utterance()
    engine.close()
    assert text == offline.hyp().hypstr != ""
