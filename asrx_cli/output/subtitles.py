"""Subtitles: SubRip (.srt) and WebVTT (.vtt) cues from final sentences.

The conventions of Thai subtitling (Netflix's Thai Timed Text Style Guide):
a line holds at most 35 characters of Thai text (42 of other text), counted
without the vowel and tone marks above and below letters; a cue has at most
2 lines, one where the text fits, lines and cues balanced; lines break
between words (asrx_cli/output/linebreak.py). A cue lasts from 5/6 s to 7 s
and asks a reading speed of at most 17 characters a second: a sentence's cues
cover its speech and, where they need more time, the silence after it, never
the next sentence's speech; where even that is too short, the sentence makes
fewer, fuller cues. Cues never overlap and never go backwards.

So each sentence is written once the next one is known (or at the end).
"""

import dataclasses
import math
import re
from typing import List, Optional, TextIO

from asrx_cli.output.linebreak import Layout, is_thai
from asrx_cli.output.render import Renderer
from asrx_cli.output.width import subtitle_length
from asrx_cli.transcript.events import Event, Final

THAI_LINE = 35  # characters a line
LATIN_LINE = 42
CUE_LINES = 2
SHORTEST_CUE = 5 / 6  # seconds
LONGEST_CUE = 7.0
READING_SPEED = 17.0  # characters a second


@dataclasses.dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str  # lines joined with "\n"


@dataclasses.dataclass(frozen=True)
class CueStyle:
    line_width: Optional[int] = None  # None: THAI_LINE for text with Thai in it, else LATIN_LINE
    lines: int = CUE_LINES

    def width_for(self, text: str) -> int:
        if self.line_width is not None:
            return self.line_width
        return THAI_LINE if is_thai(text) else LATIN_LINE


def cue_texts(text: str, style: CueStyle = CueStyle()) -> List[str]:
    """The text in the fewest cues it fits in."""
    layout = Layout(text, style.width_for(text), style.lines)
    return layout.cues(layout.fewest_cues()) if layout.words else []


def reading_time(text: str) -> float:
    return max(SHORTEST_CUE, subtitle_length(text) / READING_SPEED)


def shares(total: float, weights: List[float]) -> List[float]:
    """`total` shared in proportion to `weights`, each between the shortest and the longest cue."""
    fixed: dict = {}
    while True:
        free = [i for i in range(len(weights)) if i not in fixed]
        rest = total - sum(fixed.values())
        weight = sum(weights[i] for i in free)
        share = {i: rest * weights[i] / weight for i in free}
        short = [i for i in free if share[i] < SHORTEST_CUE]
        long = [i for i in free if share[i] > LONGEST_CUE]
        if not free or not (short or long):
            return [fixed.get(i, share.get(i, 0.0)) for i in range(len(weights))]
        for i in short or long:
            fixed[i] = SHORTEST_CUE if short else LONGEST_CUE


def sentence_cues(start: float, end: float, text: str, next_speech: float = math.inf,
                  style: CueStyle = CueStyle()) -> List[Cue]:
    """The cues of one sentence spoken over [start, end], the next one's speech at `next_speech`."""
    layout = Layout(text, style.width_for(text), style.lines)
    if not layout.words:
        return []
    speech, room = end - start, max(next_speech, end) - start
    count = max(layout.fewest_cues(), math.ceil(speech / LONGEST_CUE))  # cues stay on long speech
    count = min(count, layout.most_cues())
    while count > layout.fewest_cues() and room < count * SHORTEST_CUE:
        count -= 1  # fewer, fuller cues: each lasts the minimum
    texts = layout.cues(count)
    needs = [reading_time(t) for t in texts]
    span = max(speech, min(sum(needs), room), SHORTEST_CUE * count)
    span = min(span, LONGEST_CUE * count)
    cues, at = [], start
    for cue_text, duration in zip(texts, shares(span, needs)):
        cues.append(Cue(at, at + duration, cue_text))
        at += duration
    return cues


def timestamp(seconds: float, separator: str) -> str:
    millis = max(int(round(seconds * 1000)), 0)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}{separator}{millis % 1000:03d}"


def vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# SubRip has no escapes: readers take <b> and {\an8} as markup, and a line with
# --> or two timestamps as a new cue's timing. Look-alike characters (and a
# ratio sign for the colons of a timestamp) show the text and mean nothing.
_SRT_MARKUP = re.compile(r"<(?=/?[A-Za-z])|-->|[{}]|\d+:\d+:\d+[,.]\d+")
_SRT_NEUTRAL = {"<": "\u2039", "-->": "--\u203a", "{": "\uff5b", "}": "\uff5d"}


def srt_escape(text: str) -> str:
    return _SRT_MARKUP.sub(lambda markup: _SRT_NEUTRAL.get(markup.group())
                           or markup.group().replace(":", "\u2236"), text)


def format_cue(number: int, cue: Cue, subtitle_format: str, speaker: Optional[str] = None) -> str:
    """A cue as the file holds it; `speaker` (--channels split): a prefix in SRT, a voice in
    WebVTT."""
    if subtitle_format == "srt":
        times = f"{timestamp(cue.start, ',')} --> {timestamp(cue.end, ',')}"
        text = srt_escape(cue.text if speaker is None else f"{speaker}: {cue.text}")
        return f"{number}\n{times}\n{text}\n\n"
    times = f"{timestamp(cue.start, '.')} --> {timestamp(cue.end, '.')}"
    text = (vtt_escape(cue.text) if speaker is None
            else f"<v {vtt_escape(speaker)}>{vtt_escape(cue.text)}")
    return f"{number}\n{times}\n{text}\n\n"


class SubtitleRenderer(Renderer):
    """Final sentences as SRT or WebVTT cues, numbered from 1, each sentence flushed when written.

    A sentence waits for the next: its cues may take the silence up to the
    next sentence's speech.
    """

    def __init__(self, out: TextIO, subtitle_format: str, style: CueStyle = CueStyle()):
        super().__init__(out)
        self.format = subtitle_format
        self.style = style
        self.count = 0
        self.last_end = 0.0  # milliseconds are what the file holds: compared in them
        self.waiting: Optional[Final] = None
        if subtitle_format == "vtt":
            self.write("WEBVTT\n\n")

    def event(self, event: Event):
        if not isinstance(event, Final) or not event.text.strip():
            return
        if self.waiting is not None:
            self._write(self.waiting, event.start)
        self.waiting = event

    def close(self):
        if self.waiting is not None:
            waiting, self.waiting = self.waiting, None
            self._write(waiting, math.inf)

    def _write(self, final: Final, next_speech: float):
        cues = sentence_cues(final.start, final.end, final.text, next_speech, self.style)
        text = "".join(format_cue(self.count + n + 1, self._in_order(cue), self.format)
                       for n, cue in enumerate(cues))
        self.count += len(cues)
        self.write(text)

    def _in_order(self, cue: Cue) -> Cue:
        start = max(round(cue.start, 3), self.last_end)
        end = max(round(cue.end, 3), round(start + SHORTEST_CUE, 3))
        self.last_end = end
        return Cue(start, end, cue.text)
