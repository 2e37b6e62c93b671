"""--stats: what a run cost and how quickly the text came, summed up at its end.

Latency is measured per sentence placed on the speech: the wall time from
sending the last of its speech to receiving its final text. When each audio
position went out is read from the sender's progress, which the main thread
notes (monotonic time, audio seconds sent) as it goes.
"""

import bisect
import time
from typing import Callable, List, Optional

import numpy as np

from asrx_cli.transcript.events import Event, Final, Partial

KEPT_SECONDS = 120.0  # progress notes older than this much audio before the newest are dropped


def percentile(values: List[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    return float(np.percentile(values, fraction * 100))


class RunStats:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.started = clock()
        self.audio_seconds = 0.0
        self.sentences = 0
        self.speech_timed = 0
        self.first_partial: Optional[float] = None  # seconds after the start
        self.latencies: List[float] = []
        self.reconnects = 0
        self.ended: Optional[float] = None
        self._offsets: List[float] = [0.0]  # audio seconds sent ...
        self._times: List[float] = [self.started]  # ... at these clock times

    def progress(self, seconds_sent: float):
        if seconds_sent <= self._offsets[-1]:
            return
        self._offsets.append(seconds_sent)
        self._times.append(self.clock())
        self.audio_seconds = seconds_sent
        if self._offsets[0] < seconds_sent - 2 * KEPT_SECONDS:
            keep = bisect.bisect_left(self._offsets, seconds_sent - KEPT_SECONDS) - 1
            del self._offsets[:keep], self._times[:keep]

    def event(self, event: Event):
        now = self.clock()
        if isinstance(event, Partial) and self.first_partial is None:
            self.first_partial = now - self.started
        elif isinstance(event, Final):
            self.sentences += 1
            if event.timing == "speech":
                self.speech_timed += 1
                self.latencies.append(max(now - self.sent_at(event.end), 0.0))

    def sent_at(self, position: float) -> float:
        """When the audio at `position` went out, interpolated between progress notes."""
        index = bisect.bisect_left(self._offsets, position)
        if index >= len(self._offsets):
            return self._times[-1]
        if index == 0:
            return self._times[0]
        low, high = self._offsets[index - 1], self._offsets[index]
        share = (position - low) / (high - low)
        return self._times[index - 1] + share * (self._times[index] - self._times[index - 1])

    def finish(self):
        self.ended = self.clock()

    def record(self) -> dict:
        wall = (self.ended or self.clock()) - self.started
        latency = None
        if self.latencies:
            latency = {"p50": round(percentile(self.latencies, 0.5), 3),
                       "p95": round(percentile(self.latencies, 0.95), 3),
                       "max": round(max(self.latencies), 3)}
        return {
            "type": "stats",
            "audio_seconds": round(self.audio_seconds, 3),
            "wall_seconds": round(wall, 3),
            "real_time_factor": round(wall / self.audio_seconds, 3) if self.audio_seconds else None,
            "sentences": self.sentences,
            "speech_timed": self.speech_timed,
            "first_partial_seconds": (None if self.first_partial is None
                                      else round(self.first_partial, 3)),
            "final_latency_seconds": latency,
            "reconnects": self.reconnects,
        }


def stats_block(record: dict) -> str:
    """The record as a few lines for stderr."""
    rtf = record["real_time_factor"]
    first = record["first_partial_seconds"]
    latency = record["final_latency_seconds"]
    lines = [
        "asrx: stats",
        f"  audio sent      {record['audio_seconds']:.1f} s",
        f"  wall time       {record['wall_seconds']:.1f} s"
        + (f" (real-time factor {rtf:.2f})" if rtf is not None else ""),
        f"  sentences       {record['sentences']} ({record['speech_timed']} timed on the speech)",
        "  first partial   " + (f"{first:.2f} s after the start" if first is not None else "none"),
        "  final latency   " + (f"p50 {latency['p50']:.2f} s, p95 {latency['p95']:.2f} s, "
                                f"max {latency['max']:.2f} s after the end of speech"
                                if latency else "n/a"),
        f"  reconnects      {record['reconnects']}",
    ]
    return "\n".join(lines) + "\n"
