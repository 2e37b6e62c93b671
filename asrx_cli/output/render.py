"""Writing transcripts: plain lines, a live terminal line, JSON Lines, raw frames, subtitles.

Every line is flushed as soon as it is complete so that a pipe sees it in real
time. A reader that goes away ends the run quietly (`OutputClosed`); an output
that cannot take more (a full disk) ends it with a usage error (`OutputFailed`).
"""

import contextlib
import errno
import json
from typing import Optional, TextIO, Union

from asrx_cli.environment import Environment
from asrx_cli.errors import OutputClosed, OutputFailed, UsageError
from asrx_cli.output.width import CLEAR_LINE, display_width
from asrx_cli.transcript.events import Event, Final, Partial


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
        """A record for programs beside the transcript events: a reconnect, the run's figures
        (--stats)."""

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
            self.write(CLEAR_LINE + self._fitted(event.text))
            self.showing = True
        elif isinstance(event, Final):
            self.write(CLEAR_LINE + event.text + "\n")
            self.showing = False

    def _fitted(self, text: str) -> str:
        """The end of a partial that fits the line, cut before a word (Thai ones too)."""
        if display_width(text) < self.columns:
            return text
        # the line breaker and its dictionary: only once a partial is too long for the line
        from asrx_cli.output.linebreak import word_tail

        return word_tail(text, self.columns - 1)

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
