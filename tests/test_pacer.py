"""The sender's schedule, on a simulated clock, and its thread's lifecycle."""

import threading

import pytest

from asrx_cli.errors import AudioError
from asrx_cli.pacer import Pacer
from asrx_cli.wire import END_OF_STREAM


class SimulatedTime:
    """A monotonic clock that moves only when the pacer sleeps (or a send takes time)."""

    def __init__(self):
        self.now = 1000.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def paced_run(blocks, speed=1.0, slow_send_at=None, chunk_bytes=1024):
    time = SimulatedTime()
    sent, ends = [], []

    def send(frame):
        sent.append((time.now, len(frame)))
        if len(sent) == slow_send_at:
            time.now += 0.1  # one send stalls for 100 ms

    pacer = Pacer(blocks, send, ends.append, chunk_bytes, speed, threading.Event(), clock=time.clock,
                  sleep=time.sleep)
    start = time.now
    pacer._run()
    return [(t - start, n) for t, n in sent], ends, pacer


def test_frames_leave_on_an_absolute_schedule():
    sent, ends, pacer = paced_run([b"\0" * 32000] * 3)  # 3 s of audio
    assert len(sent) == 94 and sent[-1][1] == 32000 * 3 - 93 * 1024
    for n, (at, _) in enumerate(sent):
        assert at == pytest.approx(n * 0.032, abs=1e-9)
    assert ends == [END_OF_STREAM] and pacer.end_sent
    assert pacer.seconds_sent == pytest.approx(3.0)


def test_a_late_frame_does_not_shift_the_rest():
    sent, _, _ = paced_run([b"\0" * 32000] * 2, slow_send_at=10)
    times = [at for at, _ in sent]
    # The 10th send (frame 9) stalls; frames 10..12 go out at once to catch up, and from
    # frame 13 on the original schedule holds: no drift.
    assert times[10] == times[11] == times[12] == pytest.approx(9 * 0.032 + 0.1)
    for n in range(13, len(times)):
        assert times[n] == pytest.approx(n * 0.032, abs=1e-9)


def test_speed_scales_the_schedule_and_zero_means_unpaced():
    sent, _, _ = paced_run([b"\0" * 32000], speed=4)
    assert sent[-1][0] == pytest.approx(31 * 0.032 / 4)  # frame 31 of 32
    sent, _, _ = paced_run([b"\0" * 32000], speed=0)
    assert {at for at, _ in sent} == {0.0}


def test_audio_error_still_ends_the_stream_and_is_raised_by_the_context_manager():
    def blocks():
        yield b"\0" * 2048
        raise AudioError("x.flac: decoding failed after 0.06 s")

    sent, ends = [], []
    pacer = Pacer(blocks(), sent.append, ends.append, 1024, 0, threading.Event())
    with pytest.raises(AudioError, match="decoding failed"):
        with pacer:
            pacer.thread.join(5)
    assert len(sent) == 2 and ends == [END_OF_STREAM]


def test_stop_request_ends_the_stream_early():
    stop = threading.Event()
    sent, ends = [], []

    def send(frame):
        sent.append(frame)
        if len(sent) == 3:
            stop.set()  # what the first Ctrl-C does

    pacer = Pacer([b"\0" * 32000], send, ends.append, 1024, 0, stop)
    with pacer:
        pacer.thread.join(5)
    assert len(sent) == 3 and ends == [END_OF_STREAM]
