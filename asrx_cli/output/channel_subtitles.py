"""Subtitles of several channels (--channels split) on one timeline.

Cues are sorted by start time across channels and numbered in that order.
Cues of one channel never overlap (each starts where the last ended, at the
earliest); cues of different channels may: two people talking at once.
A cue is written once no channel can still bring one that starts earlier:
each channel's next cue starts where its last one ended, at the earliest,
and a finished channel brings none; the rest are written at the end.
WebVTT marks the speaker with a voice span (`<v agent>`), SubRip with a prefix.
"""

import heapq
import math
from typing import List, TextIO, Tuple

from asrx_cli.output.render import Renderer
from asrx_cli.output.subtitles import SHORTEST_CUE, Cue, sentence_cues, timestamp, vtt_escape
from asrx_cli.transcript.events import Final


def labelled_cue(number: int, cue: Cue, name: str, subtitle_format: str) -> str:
    if subtitle_format == "srt":
        times = f"{timestamp(cue.start, ',')} --> {timestamp(cue.end, ',')}"
        return f"{number}\n{times}\n{name}: {cue.text}\n\n"
    times = f"{timestamp(cue.start, '.')} --> {timestamp(cue.end, '.')}"
    return f"{number}\n{times}\n<v {vtt_escape(name)}>{vtt_escape(cue.text)}\n\n"


class ChannelSubtitles(Renderer):
    def __init__(self, out: TextIO, subtitle_format: str, channels: int):
        super().__init__(out)
        self.format = subtitle_format
        self.count = 0
        self.last_end = [0.0] * channels  # per channel: where its next cue may start
        self.waiting: List[Tuple[float, int, int, Cue, str]] = []  # a heap by start, channel, order
        self.added = 0
        if subtitle_format == "vtt":
            self.write("WEBVTT\n\n")

    def add(self, index: int, name: str, final: Final):
        for cue in sentence_cues(final.start, final.end, final.text):
            start = max(round(cue.start, 3), self.last_end[index])
            end = max(round(cue.end, 3), round(start + SHORTEST_CUE, 3))
            self.last_end[index] = end
            cue = Cue(start, end, cue.text)
            heapq.heappush(self.waiting, (start, index, self.added, cue, name))
            self.added += 1
        self._write_until(min(self.last_end))

    def channel_done(self, index: int):
        self.last_end[index] = math.inf
        self._write_until(min(self.last_end))

    def close(self):
        self._write_until(math.inf)

    def _write_until(self, time: float):
        """The cues that start before `time` (all of them at infinity), in order."""
        while self.waiting and (self.waiting[0][0] < time or time == math.inf):
            _, _, _, cue, name = heapq.heappop(self.waiting)
            self.count += 1
            self.write(labelled_cue(self.count, cue, name, self.format))
