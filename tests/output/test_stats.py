"""--stats figures from a run's events, on a clock the test drives."""

import pytest

from asrx_cli.transcript.events import Final, Partial
from asrx_cli.transcript.stats import RunStats, percentile, stats_block


class Clock:
    """Time that moves only when the test says."""

    now = 100.0

    def __call__(self):
        return self.now


def test_percentiles_interpolate_between_ranks():
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([1.0, 2.0], 0.95) == pytest.approx(1.95)
    assert percentile([4.0], 0.95) == 4.0


def test_latency_runs_from_sending_the_end_of_speech_to_the_final():
    clock = Clock()
    stats = RunStats(clock)
    for second in range(1, 6):  # one audio second sent per wall second
        clock.now += 1.0
        stats.progress(float(second))
    stats.event(Partial(0, "hel", 1.2))
    clock.now += 0.5  # the final comes at 105.5; its speech ended at 2.5 s, sent at 102.5
    stats.event(Final(0, "hello", 1.0, 2.5, timing="speech"))
    stats.event(Final(1, "arrival only", 4.0, 5.0))  # no latency: no known end of speech
    stats.finish()
    record = stats.record()
    assert record["final_latency_seconds"] == {"p50": 3.0, "p95": 3.0, "max": 3.0}
    assert record["first_partial_seconds"] == 5.0
    assert (record["sentences"], record["speech_timed"], record["reconnects"]) == (2, 1, 0)
    assert record["audio_seconds"] == 5.0 and record["wall_seconds"] == 5.5
    assert record["real_time_factor"] == 1.1
    block = stats_block(record)
    assert "p50 3.00 s, p95 3.00 s, max 3.00 s" in block and "real-time factor 1.10" in block


def test_a_run_without_text_says_so():
    stats = RunStats(Clock())
    record = stats.record()
    assert record["first_partial_seconds"] is None and record["final_latency_seconds"] is None
    assert record["real_time_factor"] is None
    assert "first partial   none" in stats_block(record)
