"""The sender's schedule, on a simulated clock, and its thread's lifecycle."""

import threading

import pytest

from asrx_cli.audio.readahead import ReadAhead, cut_frames
from asrx_cli.errors import AudioError
from asrx_cli.messages import Ending, Finished, Sent
from asrx_cli.stream.sender import Sender


class SimulatedTime:
    """A monotonic clock that moves only when the sender sleeps (or a send takes time)."""

    def __init__(self):
        self.now = 1000.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def flat(batches):
    for batch in batches:
        yield from batch


class Recorder:
    """The connection's and the main thread's side of a sender: what was sent, what was reported."""

    def __init__(self):
        self.sent, self.ends, self.news = [], [], []

    def sender(self, blocks, speed=0.0, stop=None, chunk_bytes=1024, send=None, **timing):
        return Sender(flat(cut_frames(blocks, chunk_bytes)), send or self.sent.append,
                      lambda: self.ends.append("end"),
                      speed, stop or threading.Event(), self.news.append, **timing)

    @property
    def finished(self) -> Finished:
        assert isinstance(self.news[-1], Finished)
        return self.news[-1]


def paced_run(blocks, speed=1.0, slow_send_at=None, chunk_bytes=1024):
    time = SimulatedTime()
    recorder = Recorder()
    sent = []

    def send(frame):
        sent.append((time.now, len(frame)))
        if len(sent) == slow_send_at:
            time.now += 0.1  # one send stalls for 100 ms

    sender = recorder.sender(blocks, speed, chunk_bytes=chunk_bytes, send=send, clock=time.clock,
                             sleep=time.sleep)
    start = time.now
    sender._run()
    return [(t - start, n) for t, n in sent], recorder


def test_frames_leave_on_an_absolute_schedule_two_to_a_wake_up():
    sent, recorder = paced_run([b"\0" * 32000] * 3)  # 3 s of audio
    assert len(sent) == 94 and sent[-1][1] == 32000 * 3 - 93 * 1024
    for n, (at, _) in enumerate(sent):
        # Frame n goes with the even frame before it, at that one's time: never late, at
        # most one frame (32 ms) early.
        assert at == pytest.approx((n - n % 2) * 0.032, abs=1e-9)
    assert len({at for at, _ in sent}) == 47
    assert recorder.ends == ["end"] and recorder.finished.end_sent
    assert recorder.finished.seconds == pytest.approx(3.0) and recorder.finished.error is None


def test_frames_longer_than_the_send_ahead_each_get_their_own_wake_up():
    sent, _ = paced_run([b"\0" * 32000], chunk_bytes=2048)  # --chunk-ms 64
    assert [at for at, _ in sent] == pytest.approx([n * 0.064 for n in range(16)], abs=1e-9)


def test_the_main_thread_hears_of_every_frame_then_the_end():
    _, recorder = paced_run([b"\0" * 3200])  # 0.1 s: 3 whole frames and a short one
    *progress, ending, finished = recorder.news
    assert [type(m) for m in progress] == [Sent] * 4 and isinstance(ending, Ending)
    assert [m.seconds for m in progress] == pytest.approx([0.032, 0.064, 0.096, 0.1])
    assert ending.seconds == finished.seconds == pytest.approx(0.1)


def test_a_late_frame_does_not_shift_the_rest():
    sent, _ = paced_run([b"\0" * 32000] * 2, slow_send_at=10)
    times = [at for at, _ in sent]
    # The 10th send (frame 9, sent with frame 8) stalls; frames 10 and 11 go out at once to
    # catch up, and from frame 12 on the original schedule holds: no drift.
    assert times[10] == times[11] == pytest.approx(8 * 0.032 + 0.1)
    for n in range(12, len(times)):
        assert times[n] == pytest.approx((n - n % 2) * 0.032, abs=1e-9)


def test_speed_scales_the_schedule_and_zero_means_unpaced():
    sent, _ = paced_run([b"\0" * 32000], speed=4)
    assert 31 * 0.008 - 0.04 <= sent[-1][0] <= 31 * 0.008 + 1e-9  # frame 31 of 32, 8 ms apart
    assert all(n * 0.008 - 0.04 <= at <= n * 0.008 + 1e-9 for n, (at, _) in enumerate(sent))
    sent, _ = paced_run([b"\0" * 32000], speed=0)
    assert {at for at, _ in sent} == {0.0}


def test_unpaced_the_main_thread_hears_of_progress_once_a_millisecond_not_once_a_frame():
    time = SimulatedTime()
    recorder = Recorder()

    def send(frame):
        recorder.sent.append(frame)
        time.now += 0.00001  # a send takes 10 us: 100 frames a millisecond

    recorder.sender([b"\0" * 32000] * 60, speed=0, send=send, clock=time.clock,
                    sleep=time.sleep)._run()
    *progress, ending, finished = recorder.news
    assert len(recorder.sent) == 1875 and 15 <= len(progress) <= 25  # 18.75 ms of sending
    assert [m.seconds for m in progress] == sorted(m.seconds for m in progress)
    assert ending.seconds == finished.seconds == pytest.approx(60.0)


def test_audio_error_still_ends_the_stream_and_is_raised_by_the_context_manager():
    def blocks():
        yield b"\0" * 2048
        raise AudioError("x.flac: decoding failed after 0.06 s")

    recorder = Recorder()
    sender = recorder.sender(blocks())
    with pytest.raises(AudioError, match="decoding failed"):
        with sender:
            sender.thread.join(5)
    assert len(recorder.sent) == 2 and recorder.ends == ["end"]
    assert isinstance(recorder.finished.error, AudioError) and recorder.finished.end_sent


def test_stop_request_ends_the_stream_early():
    stop = threading.Event()
    recorder = Recorder()

    def send(frame):
        recorder.sent.append(frame)
        if len(recorder.sent) == 3:
            stop.set()  # what the first Ctrl-C does

    sender = recorder.sender([b"\0" * 32000], stop=stop, send=send)
    with sender:
        sender.thread.join(5)
    assert len(recorder.sent) == 3 and recorder.ends == ["end"]


def test_the_decoder_thread_hands_frames_over_in_order_then_the_error_where_it_came():
    def blocks():
        yield from ([bytes([n]) * 1024] for n in range(10))
        raise AudioError("x.flac: decoding failed after 0.32 s")

    got = []
    with pytest.raises(AudioError, match="decoding failed"):
        with ReadAhead(blocks(), depth=2) as frames:
            for frame in frames:
                got.append(frame[0])
    assert got == list(range(10))


def test_the_decoder_thread_stops_while_its_consumer_has_gone():
    def endless():
        while True:
            yield [b"\0" * 1024]

    with ReadAhead(endless(), depth=2) as frames:
        next(iter(frames))
    assert not frames._thread.is_alive()  # stopped though its queue was full and its source endless
