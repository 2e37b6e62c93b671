"""Subtitles of several channels (--channels split) on one timeline.

Cues are sorted by start time across channels and numbered in that order.
Each channel's sentences are cut into cues by the rules of a single run
(output/subtitles.py): a sentence waits for the channel's next one, whose
speech its cues may not reach. Cues of one channel never overlap; cues of
different channels may: two people talking at once. A cue is written once no
channel can still bring one that starts earlier; the rest at the end. A
channel with no sentence held tells how early its next one may start from
the audio it has sent (`progress`): a silent channel holds nothing back for
long, and the cues of the others reach a file as they come (`tail -f`).
WebVTT marks the speaker with a voice span (`<v agent>`), SubRip with a prefix.
"""

import heapq
import math
from typing import List, Optional, TextIO, Tuple

from asrx_cli.output.render import Renderer
from asrx_cli.output.subtitles import SHORTEST_CUE, Cue, CueStyle, format_cue, sentence_cues
from asrx_cli.transcript.events import Final

DEFAULT_STYLE = CueStyle()  # frozen: one instance serves every default


class ChannelSubtitles(Renderer):
    def __init__(self, out: TextIO, subtitle_format: str, channels: int,
                 style: CueStyle = DEFAULT_STYLE):
        super().__init__(out)
        self.format = subtitle_format
        self.style = style
        self.count = 0
        self.last_end = [0.0] * channels  # per channel: where its next cue may start
        self.held: List[Optional[Tuple[str, Final]]] = [None] * channels  # waiting for the next
        self.done = [False] * channels
        self.horizon = [0.0] * channels  # per channel: no sentence still to come starts before
        self.waiting: List[Tuple[float, int, int, Cue, str]] = []  # a heap by start, channel, order
        self.added = 0
        if subtitle_format == "vtt":
            self.write("WEBVTT\n\n")

    def add(self, index: int, name: str, final: Final):
        if not final.text.strip():
            return
        self._release(index, final.start)
        self.held[index] = (name, final)
        self._write_until(self._earliest())

    def progress(self, index: int, horizon: float):
        """No sentence of the channel's still to come starts before `horizon` (seconds)."""
        if horizon > self.horizon[index]:
            self.horizon[index] = horizon
            self._write_until(self._earliest())

    def channel_done(self, index: int):
        self._release(index, math.inf)
        self.done[index] = True
        self._write_until(self._earliest())

    def close(self):
        for index in range(len(self.held)):
            self._release(index, math.inf)
        self._write_until(math.inf)

    def _release(self, index: int, next_speech: float):
        """The channel's sentence held back, cut into cues now that its successor is known."""
        held, self.held[index] = self.held[index], None
        if held is None:
            return
        name, final = held
        for cue in sentence_cues(final.start, final.end, final.text, next_speech, self.style):
            start = max(round(cue.start, 3), self.last_end[index])
            end = max(round(cue.end, 3), round(start + SHORTEST_CUE, 3))
            self.last_end[index] = end
            heapq.heappush(self.waiting,
                           (start, index, self.added, Cue(start, end, cue.text), name))
            self.added += 1

    def _earliest(self) -> float:
        """The earliest start a cue still to come may have, on any channel."""
        def channel(index: int) -> float:
            if self.done[index]:
                return math.inf
            held = self.held[index]
            if held is None:
                return max(self.last_end[index], self.horizon[index])
            return max(held[1].start, self.last_end[index])
        return min(channel(index) for index in range(len(self.held)))

    def _write_until(self, time: float):
        """The cues that start before `time` (all of them at infinity), in order."""
        while self.waiting and (self.waiting[0][0] < time or time == math.inf):
            _, _, _, cue, name = heapq.heappop(self.waiting)
            self.count += 1
            self.write(format_cue(self.count, cue, self.format, name))
