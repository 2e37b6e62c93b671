"""Terminal columns: how wide text is on a terminal, and how to fit it."""

import unicodedata

CLEAR_LINE = "\r\x1b[K"
ZERO_WIDTH = ("Mn", "Me", "Cf")  # combining and enclosing marks, format controls


def display_width(text: str) -> int:
    """Terminal columns: Thai vowel and tone marks take none, wide CJK takes two."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ZERO_WIDTH:
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def fit_to_width(text: str, columns: int) -> str:
    """The end of `text` that fits in `columns`, so a long sentence never wraps the live line."""
    if display_width(text) <= columns:
        return text
    kept = []
    width = 1  # the ellipsis
    for char in reversed(text):
        width += display_width(char)
        if width > columns:
            break
        kept.append(char)
    tail = "".join(reversed(kept))
    while tail and display_width(tail[0]) == 0:
        tail = tail[1:]  # never start on a mark that belongs to a cut-off letter
    return "…" + tail


def subtitle_length(text: str) -> int:
    """Characters as subtitle style guides count them: all but combining marks and line breaks.

    Thai vowel and tone marks above and below a letter (category Mn) count
    nothing; SARA AM (ำ) is a letter and counts one.
    """
    return sum(1 for char in text if char != "\n" and unicodedata.category(char) not in ZERO_WIDTH)
