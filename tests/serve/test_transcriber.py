"""The server's Transcriber on real speech: what the engine is given, and how often it is asked."""

import pytest

from asrx_cli.server.transcriber import (
    LEAD_IN_BYTES,
    LONGEST_UTTERANCE,
    PARTIAL_EVERY_BYTES,
    Transcriber,
)
from asrx_cli.wire import BYTES_PER_SECOND, FRAME_BYTES, SAMPLE_RATE
from tests.support.speech import GOFORWARD, LIBRIVOX, needs_testdata, read_pcm, silence

pytestmark = needs_testdata


class RecordingRecognizer:
    """An engine that hears nothing but keeps every byte it is given, by utterance."""

    def __init__(self):
        self.utterances = []

    def start_utterance(self):
        self.utterances.append(bytearray())

    def accept(self, pcm):
        self.utterances[-1] += pcm

    def hypothesis(self):
        return f"{len(self.utterances[-1])} bytes"

    def end_utterance(self):
        return self.hypothesis()

    def close(self):
        pass


def speech_start(pcm: bytes) -> int:
    """Where PocketSphinx's endpointer, alone, says the speech starts (a byte offset)."""
    from pocketsphinx import Endpointer

    endpointer = Endpointer(sample_rate=SAMPLE_RATE)
    for offset in range(0, len(pcm), endpointer.frame_bytes):
        if endpointer.process(pcm[offset:offset + endpointer.frame_bytes]) is not None:
            return round(endpointer.speech_start * SAMPLE_RATE) * 2
    pytest.fail("the endpointer heard no speech")


def decode_in_transcriber(pcm: bytes):
    recognizer = RecordingRecognizer()
    transcriber = Transcriber(recognizer)
    hypotheses = []
    for offset in range(0, len(pcm), FRAME_BYTES):
        hypotheses += [(offset, h) for h in transcriber.feed(pcm[offset:offset + FRAME_BYTES])]
    hypotheses += [(len(pcm), h) for h in transcriber.finish()]
    return recognizer, hypotheses


def test_the_engine_hears_the_audio_just_before_the_endpointer_fired():
    pcm = silence(1.0) + read_pcm(GOFORWARD) + silence(1.0)
    recognizer, _ = decode_in_transcriber(pcm)
    start = speech_start(pcm) - LEAD_IN_BYTES
    heard = bytes(recognizer.utterances[0])
    assert pcm[start:start + len(heard)] == heard


def test_partials_come_a_few_times_a_second_from_the_first_second_of_speech():
    pcm = silence(1.0) + read_pcm(GOFORWARD) + silence(1.0)
    _, hypotheses = decode_in_transcriber(pcm)
    partials = [offset for offset, h in hypotheses if not h.final]
    assert partials[0] - speech_start(pcm) < BYTES_PER_SECOND
    gaps = [later - earlier for earlier, later in zip(partials, partials[1:])]
    assert min(gaps) >= PARTIAL_EVERY_BYTES - FRAME_BYTES
    assert max(gaps) <= PARTIAL_EVERY_BYTES + 2 * FRAME_BYTES
    assert [h.final for _, h in hypotheses].count(True) == 1


def test_speech_without_a_pause_is_cut_into_utterances_at_most_the_longest_and_nothing_is_lost():
    # 50 s of read speech, the recordings joined by gaps too short for the
    # endpointer to end a sentence.
    pcm = b"".join(read_pcm(path) + silence(0.1) for path in sorted(LIBRIVOX.glob("*.wav"))) * 2
    recognizer, hypotheses = decode_in_transcriber(pcm)
    lengths = [len(utterance) for utterance in recognizer.utterances]
    assert len(lengths) >= 3 and max(lengths) <= LONGEST_UTTERANCE
    heard = b"".join(recognizer.utterances)
    start = pcm.index(heard[:BYTES_PER_SECOND])
    # One stretch: no byte lost or heard twice at a cut.
    assert pcm[start:start + len(heard)] == heard
    finals = [h for _, h in hypotheses if h.final]
    assert [h.utterance for h in finals] == list(range(len(lengths)))
