"""Subtitles: SubRip (.srt) and WebVTT (.vtt) cues from final sentences, written as they come.

One sentence makes one cue, or several when it does not fit in two lines of
42 columns (terminal display width: Thai vowel and tone marks take none).
Lines break at spaces; a word too wide for a line (Thai is written without
spaces between words) breaks between grapheme clusters, never inside one.
The cues of a sentence share its time in proportion to their width. Cues
never overlap and never go backwards.
"""

import dataclasses
from typing import Iterator, List, TextIO

import regex

from asrx_cli.output.render import Renderer
from asrx_cli.output.width import display_width
from asrx_cli.transcript.events import Event, Final

LINE_COLUMNS = 42
CUE_LINES = 2
SHORTEST_CUE = 0.2  # seconds: a cue squeezed by its neighbour still shows for this long
_GRAPHEME = regex.compile(r"\X")


@dataclasses.dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str  # lines joined with "\n"


def graphemes(text: str) -> List[str]:
    return _GRAPHEME.findall(text)


def pieces(word: str, columns: int) -> Iterator[str]:
    """A word cut between grapheme clusters into pieces of at most `columns`."""
    piece, width = "", 0
    for cluster in graphemes(word):
        cluster_width = display_width(cluster)
        if piece and width + cluster_width > columns:
            yield piece
            piece, width = "", 0
        piece += cluster
        width += cluster_width
    if piece:
        yield piece


def wrap(text: str, columns: int = LINE_COLUMNS) -> List[str]:
    """Lines of at most `columns`, broken at spaces where possible."""
    lines, line = [], ""
    for word in text.split():
        for piece in pieces(word, columns):
            joined = f"{line} {piece}" if line else piece
            if line and display_width(joined) > columns:
                lines.append(line)
                joined = piece
            line = joined
    if line:
        lines.append(line)
    return lines


def cue_texts(text: str, columns: int = LINE_COLUMNS, lines_per_cue: int = CUE_LINES) -> List[str]:
    lines = wrap(text, columns)
    return ["\n".join(lines[i:i + lines_per_cue]) for i in range(0, len(lines), lines_per_cue)]


def sentence_cues(start: float, end: float, text: str) -> List[Cue]:
    """The cues of one sentence, sharing [start, end] in proportion to their width."""
    texts = cue_texts(text)
    widths = [max(display_width(t.replace("\n", "")), 1) for t in texts]
    total, before, cues = sum(widths), 0, []
    for cue_text, width in zip(texts, widths):
        cues.append(Cue(start + (end - start) * before / total,
                        start + (end - start) * (before + width) / total, cue_text))
        before += width
    return cues


def timestamp(seconds: float, separator: str) -> str:
    millis = max(int(round(seconds * 1000)), 0)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}{separator}{millis % 1000:03d}"


def vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def format_cue(number: int, cue: Cue, subtitle_format: str) -> str:
    if subtitle_format == "srt":
        times = f"{timestamp(cue.start, ',')} --> {timestamp(cue.end, ',')}"
        return f"{number}\n{times}\n{cue.text}\n\n"
    times = f"{timestamp(cue.start, '.')} --> {timestamp(cue.end, '.')}"
    return f"{number}\n{times}\n{vtt_escape(cue.text)}\n\n"


class SubtitleRenderer(Renderer):
    """Final sentences as SRT or WebVTT cues, numbered from 1, each flushed as it is written."""

    def __init__(self, out: TextIO, subtitle_format: str):
        super().__init__(out)
        self.format = subtitle_format
        self.count = 0
        self.last_end = 0.0  # milliseconds are what the file holds: compared in them
        if subtitle_format == "vtt":
            self.write("WEBVTT\n\n")

    def event(self, event: Event):
        if not isinstance(event, Final):
            return
        for cue in sentence_cues(event.start, event.end, event.text):
            self.write(format_cue(self.count + 1, self._in_order(cue), self.format))
            self.count += 1

    def _in_order(self, cue: Cue) -> Cue:
        start = max(round(cue.start, 3), self.last_end)
        end = max(round(cue.end, 3), round(start + SHORTEST_CUE, 3))
        self.last_end = end
        return Cue(start, end, cue.text)
