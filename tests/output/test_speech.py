"""The voice-activity detector on real speech, and the timeline's answers."""

import threading

import numpy as np
import pytest

from asrx_cli.audio.readahead import ReadAhead, cut_frames
from asrx_cli.audio.tracked import SpeechTracker
from asrx_cli.audio.vad import SpeechDetector
from asrx_cli.messages import SpeechEnded, SpeechStarted
from asrx_cli.transcript.timeline import Segment, SpeechTimeline
from tests.support.speech import needs_testdata
from tests.support.utterances import standard_layout


@pytest.fixture(scope="module")
def speech_layout():
    return standard_layout()


def detect(pcm: bytes, block: int) -> list:
    detector, changes = SpeechDetector(), []
    for start in range(0, len(pcm), block):
        changes += detector.feed(pcm[start:start + block])
    return changes + detector.finish()


def timeline_of(changes) -> SpeechTimeline:
    timeline = SpeechTimeline()
    for change in changes:
        timeline.apply(change)
    return timeline


@needs_testdata
def test_each_utterance_is_one_segment_at_its_true_boundaries(speech_layout):
    segments = timeline_of(detect(speech_layout.pcm, 32000)).segments
    assert len(segments) == len(speech_layout.truth)
    for segment, (onset, offset) in zip(segments, speech_layout.truth):
        assert segment.start == pytest.approx(onset, abs=0.05)
        assert segment.end == pytest.approx(offset, abs=0.2)


@needs_testdata
def test_block_sizes_do_not_change_the_boundaries(speech_layout):
    pcm = speech_layout.pcm[:16000 * 2 * 8]
    assert detect(pcm, 1001) == detect(pcm, 32000) == detect(pcm, len(pcm))


def test_silence_and_faint_noise_are_no_speech():
    noise = np.random.default_rng(1).normal(0, 30, 16000 * 3).astype("<i2").tobytes()
    assert detect(bytes(32000 * 2), 4000) == []
    assert detect(noise, 4000) == []


def test_timeline_answers_where_speech_is():
    timeline = timeline_of([SpeechStarted(1.0), SpeechEnded(2.0), SpeechStarted(2.2),
                            SpeechEnded(3.0), SpeechStarted(5.0)])
    assert timeline.segments == [Segment(1.0, 2.0), Segment(2.2, 3.0), Segment(5.0, None)]
    assert timeline.segment_at(0.5) is None
    assert timeline.segment_at(2.5) == Segment(2.2, 3.0)
    assert timeline.segment_at(4.0) == Segment(2.2, 3.0)  # in the pause: the speech before it
    assert timeline.speech_start_before(2.5) == 2.2
    assert timeline.speech_start_before(0.5) is None


@needs_testdata
def test_tracker_hands_on_every_byte_and_reports_speech_through_its_queue(speech_layout):
    blocks = [speech_layout.pcm[i:i + 7000] for i in range(0, len(speech_layout.pcm), 7000)]
    tracker = SpeechTracker()
    assert b"".join(tracker.analyse(iter(blocks))) == speech_layout.pcm
    timeline = SpeechTimeline()
    timeline.drain(tracker.changes)
    assert (len(timeline.segments) == len(speech_layout.truth)
            and timeline.segments[-1].end is not None)
    assert tracker.changes.empty()


def test_the_detector_runs_on_the_decoder_thread_that_reads_the_source():
    threads = []

    class Watched(SpeechDetector):
        def feed(self, pcm):
            threads.append(threading.current_thread().name)
            return super().feed(pcm)

    tracker = SpeechTracker(Watched())
    with ReadAhead(cut_frames(tracker.analyse(iter([bytes(3200)] * 5)), 1024), 2) as frames:
        assert sum(map(len, frames)) == 5 * 3200
    assert threads == ["asrx-decoder"] * 5
