"""Every channel's sender paces on one schedule (--channels split), on a clock the test moves.

The real `Sender` runs with a clock of the test's own, which its sleeps move
on: each send is stamped with when it left, with no real waiting and no
timing to be flaky.
"""

import threading

import pytest

from asrx_cli.stream.sender import Sender, SharedStart

FRAME = bytes(1024)  # 32 ms of 16 kHz s16le
FRAMES = 12


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float):
        self.now += seconds


def send_times(first_frame_at: float, start=None):
    """When each frame left a sender whose first frame was ready at `first_frame_at`."""
    clock = Clock(first_frame_at)
    times = []
    with Sender(iter([FRAME] * FRAMES), lambda frame: times.append(clock()), lambda: None, 1.0,
                threading.Event(), lambda message: None, clock=clock, sleep=clock.sleep,
                start=start) as sender:
        sender.thread.join()
    return times


def test_a_channel_whose_first_frame_comes_later_sends_on_the_first_ones_schedule():
    shared = SharedStart()
    first = send_times(100.0, shared)
    second = send_times(100.05, shared)  # its first frame ready 50 ms after the other's
    assert shared.t0 == 100.0
    assert second[:2] == [100.05, 100.05]  # behind the schedule: at once
    assert second[2:] == pytest.approx(first[2:], abs=1e-9)  # then frame n with frame n
    assert first[2] == pytest.approx(100.0 + 2 * 0.032)


def test_a_sender_of_its_own_starts_its_schedule_with_its_first_frame():
    alone = send_times(100.05)
    assert alone[2] == pytest.approx(100.05 + 2 * 0.032)
