"""Where a line of text may break: between words, Thai included.

Thai (like Lao, Khmer and Burmese) is written without spaces between words,
so breaking its lines needs a dictionary. ICU's line breaker has one (UAX #14
with ICU's dictionaries: what browsers use); icu4py bundles ICU in its wheels
and is imported on first use, so that plain text output never pays for it.
Where icu4py cannot be installed, lines break at spaces and between grapheme
clusters, as a fallback said once with -v.

Whatever the breaker allows, a number, a time, a date, a phone number, a URL,
an e-mail address or a run of Latin letters is never broken (unless it alone
is wider than a line).
"""

import functools
import logging
from importlib import resources
from typing import List, Optional, Set

import regex

from asrx_cli.output.width import display_width, fit_to_width, subtitle_length

log = logging.getLogger("asrx")

THAI = regex.compile(r"\p{Thai}")
GRAPHEME = regex.compile(r"\X")
SPACES = regex.compile(r"\s+")
_WHOLE = regex.compile(r"""
      (?:https?://|www\.)\S*[^\s.,;:!?)\]]     # a URL
    | [\w.+-]+@\w[\w-]*(?:\.\w[\w-]*)+          # an e-mail address
    | (?:\+\d{1,3}|0)\d{0,3}(?:[-\ ]\d{1,4}){1,4}(?!\d)   # a phone number, spaced or dashed
    | \d+(?:[.,:/-]\d+)*%?                      # a number, an amount, a time, a date
    | \p{Latin}+(?:[-'\u2019.&]\p{Latin}+)*      # a word in Latin letters
""", regex.VERBOSE)


@functools.lru_cache(maxsize=None)
def icu_line_breaker():
    """icu4py's LineBreaker, or None (said once) where it is not installed."""
    try:
        from icu4py.breakers import LineBreaker
    except ImportError as exc:
        log.info("line breaks between grapheme clusters: no dictionary for Thai words (%s)", exc)
        return None
    return LineBreaker


def _icu_breaks(text: str) -> Optional[Set[int]]:
    breaker = icu_line_breaker()
    if breaker is None:
        return None
    try:
        pieces = list(breaker(text, "th"))
    except (UnicodeError, RuntimeError):  # lone surrogates, which ICU does not take
        return None
    breaks, position = set(), 0
    for piece in pieces[:-1]:
        position += len(piece)
        breaks.add(position)
    for word in thai_words().finditer(text):  # words the dictionary cuts: whole, and apart
        breaks.difference_update(range(word.start() + 1, word.end()))
        breaks.update(edge for edge in word.span() if not _is_mark(text, edge))
    return breaks


@functools.lru_cache(maxsize=None)
def thai_words():
    """A pattern of the words ICU's dictionary cuts wrongly (asrx_cli/output/thai_words.txt)."""
    text = resources.files("asrx_cli.output").joinpath("thai_words.txt").read_text("utf-8")
    words = {line.strip() for line in text.splitlines() if line.strip()[:1] not in ("", "#")}
    return regex.compile("|".join(sorted(words, key=len, reverse=True)))


def _is_mark(text: str, index: int) -> bool:
    """Whether text[index] belongs to the cluster before it (a vowel or tone mark)."""
    return index < len(text) and GRAPHEME.match(text, index - 1).end() > index if index else False


def _grapheme_breaks(text: str) -> Set[int]:
    """Between every two grapheme clusters."""
    breaks, position = set(), 0
    for cluster in GRAPHEME.findall(text):
        position += len(cluster)
        breaks.add(position)
    breaks.discard(len(text))
    return breaks


def break_positions(text: str, dictionary: bool = True) -> List[int]:
    """Indices in `text` where a line may begin, in order (0 and len(text) excluded).

    Without `dictionary` (or icu4py), between grapheme clusters.
    """
    breaks = _icu_breaks(text) if dictionary else None
    if breaks is None:
        breaks = _grapheme_breaks(text)
    for whole in _WHOLE.finditer(text):
        breaks.difference_update(range(whole.start() + 1, whole.end()))
    return sorted(b for b in breaks if 0 < b < len(text) and not text[b].isspace())


def chunks(text: str, dictionary: bool = True) -> List[str]:
    """`text` cut where lines may break: each chunk a word with the spaces after it."""
    cuts = [0] + break_positions(text, dictionary) + [len(text)]
    return [text[a:b] for a, b in zip(cuts, cuts[1:]) if b > a]


def is_thai(text: str) -> bool:
    return THAI.search(text) is not None


def _fitting(chunk: str, width: int) -> List[str]:
    """The chunk, or its pieces between grapheme clusters where it alone is wider than a line."""
    if subtitle_length(chunk.rstrip()) <= width:
        return [chunk]
    pieces, piece = [], ""
    for cluster in GRAPHEME.findall(chunk):
        if piece and subtitle_length(piece + cluster) > width and not cluster.isspace():
            pieces.append(piece)
            piece = ""
        piece += cluster
    return pieces + [piece]


class Layout:
    """A sentence's words and the ways to lay them out as cues of at most `lines` lines.

    A line holds at most `width` characters as subtitle_length counts them.
    """

    def __init__(self, text: str, width: int, lines: int, dictionary: bool = True):
        self.width, self.lines = width, lines
        self.text = SPACES.sub(" ", text).strip()  # a blank line would end an SRT cue
        self.words = [piece for chunk in chunks(self.text, dictionary)
                      for piece in _fitting(chunk, width)]
        self._before = [0]
        for word in self.words:
            self._before.append(self._before[-1] + subtitle_length(word))
        self._trailing = [subtitle_length(word) - subtitle_length(word.rstrip())
                          for word in self.words]
        self._reach = [self._farthest(start) for start in range(len(self.words))]

    def line_length(self, start: int, end: int) -> int:
        """The length of words[start:end] as one line, without the spaces it ends on."""
        return self._before[end] - self._before[start] - self._trailing[end - 1]

    def _line_starts(self, start: int, end: int, width: int) -> List[int]:
        """Where lines begin when words[start:end] fill each line as far as `width` allows."""
        starts = [start]
        for stop in range(start + 2, end + 1):
            if self.line_length(starts[-1], stop) > width and stop - 1 > starts[-1]:
                starts.append(stop - 1)
        return starts

    def _farthest(self, start: int) -> int:
        """The end of the longest run of words from `start` that fits in one cue."""
        line, lines = start, 1
        for stop in range(start + 2, len(self.words) + 1):
            if self.line_length(line, stop) > self.width:
                line, lines = stop - 1, lines + 1
                if lines > self.lines:
                    return stop - 1
        return len(self.words)

    def fewest_cues(self) -> int:
        count, start = 0, 0
        while start < len(self.words):
            start, count = self._reach[start], count + 1
        return count

    def most_cues(self) -> int:
        return len(self.words)

    def cues(self, count: int) -> List[str]:
        """The words in `count` cues (fewest_cues to most_cues), their lengths as even as can be."""
        ends = self._even_cues(count)
        return [self._lines(start, end) for start, end in zip([0] + ends, ends)]

    def _even_cues(self, count: int) -> List[int]:
        """The ends of `count` cues that fit, the sum of their squared lengths the least."""
        words, infinite = len(self.words), float("inf")
        cost = [[infinite] * (words + 1) for _ in range(count + 1)]
        came_from = [[0] * (words + 1) for _ in range(count + 1)]
        cost[0][0] = 0
        for cue in range(1, count + 1):
            for start in range(words):
                if cost[cue - 1][start] == infinite:
                    continue
                for end in range(start + 1, self._reach[start] + 1):
                    total = cost[cue - 1][start] + self.line_length(start, end) ** 2
                    if total < cost[cue][end]:
                        cost[cue][end], came_from[cue][end] = total, start
        ends, end = [], words
        for cue in range(count, 0, -1):
            ends.append(end)
            end = came_from[cue][end]
        return ends[::-1]

    def _lines(self, start: int, end: int) -> str:
        """words[start:end] in as few lines as they need, balanced: the longest the shortest."""
        needed = len(self._line_starts(start, end, self.width))
        longest_word = max(self.line_length(word, word + 1) for word in range(start, end))
        width = max(-(-self.line_length(start, end) // needed), longest_word)
        while len(self._line_starts(start, end, width)) > needed:
            width += 1
        starts = self._line_starts(start, end, width) + [end]
        return "\n".join("".join(self.words[a:b]).strip() for a, b in zip(starts, starts[1:]))


def word_tail(text: str, columns: int) -> str:
    """The end of `text` from a word on, after an ellipsis, in `columns` terminal columns.

    Between grapheme clusters (fit_to_width) where the last word alone is wider.
    """
    if display_width(text) <= columns:
        return text
    after = [0] * (len(text) + 1)  # after[i]: the columns text[i:] takes
    for index in range(len(text) - 1, -1, -1):
        after[index] = after[index + 1] + display_width(text[index])
    start = next((b for b in break_positions(text) if after[b] + 1 <= columns), None)
    return fit_to_width(text, columns) if start is None else "…" + text[start:]
