"""Writing transcripts: plain lines, a live terminal line, JSON Lines, raw frames, subtitles.

Every line is flushed as soon as it is complete so that a pipe sees it in real
time. A reader that goes away ends the run quietly (`OutputClosed`); an output
that cannot take more (a full disk) ends it with a usage error (`OutputFailed`).
"""

import contextlib
import errno
import json
import unicodedata
from typing import Optional, TextIO, Union

from asrx_cli.environment import Environment
from asrx_cli.errors import OutputClosed, OutputFailed, UsageError
from asrx_cli.protocol import Event, Final, Partial

CLEAR_LINE = "\r\x1b[K"


@contextlib.contextmanager
def open_output(path: Optional[str], env: Environment):
    """stdout, or the file `path` (closed at the end, a failure to write it said plainly)."""
    if path is None or path == "-":
        yield env.stdout
        return
    try:
        out = open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    try:
        yield out
    except BaseException:
        with contextlib.suppress(OSError):  # the error on its way says what went wrong
            out.close()
        raise
    try:
        out.close()
    except OSError as exc:
        raise OutputFailed(_reason(exc)) from None


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


class Renderer:
    def __init__(self, out: TextIO):
        self.out = out

    def event(self, event: Event):
        """A transcript event."""

    def frame(self, frame: Union[str, bytes]):
        """A frame exactly as it came from the server."""

    def close(self):
        """The transcript is complete (or abandoned): leave the output tidy."""

    def record(self, record: dict):
        """A record for programs beside the transcript events: a reconnect, the run's figures (--stats)."""

    def write(self, text: str):
        try:
            self.out.write(text)
            self.out.flush()
        except BrokenPipeError:
            raise OutputClosed() from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # through another layer
                raise OutputClosed() from None
            raise OutputFailed(_reason(exc)) from None


class LineRenderer(Renderer):
    """One line per finished sentence."""

    def event(self, event: Event):
        if isinstance(event, Final):
            self.write(event.text + "\n")


class LiveRenderer(Renderer):
    """A terminal: the sentence being spoken is redrawn in place; finished ones stay."""

    def __init__(self, out: TextIO, columns: int, partials: bool = True):
        super().__init__(out)
        self.columns = max(columns, 10)
        self.partials = partials
        self.showing = False  # a partial line is on screen

    def event(self, event: Event):
        if isinstance(event, Partial) and self.partials:
            self.write(CLEAR_LINE + fit_to_width(event.text, self.columns - 1))
            self.showing = True
        elif isinstance(event, Final):
            self.write(CLEAR_LINE + event.text + "\n")
            self.showing = False

    def close(self):
        if self.showing:
            self.write("\n")
            self.showing = False


class JsonRenderer(Renderer):
    """JSON Lines, one object per event; see the schema in the man page."""

    def __init__(self, out: TextIO, partials: bool = True):
        super().__init__(out)
        self.partials = partials

    def event(self, event: Event):
        record = event_record(event)
        if record is None or (record["type"] == "partial" and not self.partials):
            return
        self.write(json.dumps(record, ensure_ascii=False) + "\n")

    def record(self, record: dict):
        self.write(json.dumps(record, ensure_ascii=False) + "\n")


class RawRenderer(Renderer):
    """The server's text frames, one per line, untouched but for embedded newlines."""

    def frame(self, frame: Union[str, bytes]):
        if isinstance(frame, str):
            self.write(frame.replace("\r", "\\r").replace("\n", "\\n") + "\n")


def event_record(event: Event):
    if isinstance(event, Partial):
        return {"type": "partial", "sentence": event.sentence, "text": event.text,
                "offset": round(event.offset, 3)}
    if isinstance(event, Final):
        return {"type": "final", "sentence": event.sentence, "text": event.text,
                "start": round(event.start, 3), "end": round(event.end, 3), "timing": event.timing}
    return None


def display_width(text: str) -> int:
    """Terminal columns: Thai vowel and tone marks take none, wide CJK takes two."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
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


def make_renderer(output_format: str, out: TextIO, live: bool, partials: bool, columns: int) -> Renderer:
    if output_format == "json":
        return JsonRenderer(out, partials)
    if output_format == "raw":
        return RawRenderer(out)
    if output_format in ("srt", "vtt"):
        from asrx_cli.subtitles import SubtitleRenderer  # regex and its tables: only for subtitles

        return SubtitleRenderer(out, output_format)
    if live:
        return LiveRenderer(out, columns, partials)
    return LineRenderer(out)
