"""Where a batch writes: a file per input, complete or plainly not, or shared stdout lines.

An output file is written as NAME.partial and renamed to NAME once its
transcript is complete, so a file with the final name is always complete and
a run that is interrupted, even killed, never leaves one that looks so. What
an incomplete run received stays in NAME.partial (created by the first line
received), and beside it NAME.resume, the journal a rerun goes on from
(output/journal.py).

On stdout, the lines of every file pass through one lock, a whole line at a
time, each marked with the file it belongs to.
"""

import contextlib
import json
import os
import threading
import unicodedata
from typing import Optional, TextIO

from asrx_cli.batch.plan import Item
from asrx_cli.errors import OutputFailed, UsageError
from asrx_cli.output.journal import remove as remove_journal


@contextlib.contextmanager
def output_file(item: Item, journal: Optional[str] = None):
    """The stream of `item`'s transcript in --output-dir: renamed into place if the block completes.

    Its `journal` (output/journal.py) goes once the output is in place.
    """
    output, partial = item.output, item.partial
    assert output is not None and partial is not None  # only items written to --output-dir
    try:
        os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {os.path.dirname(output)}: {exc.strerror}") from None
    out = PartialFile(partial)
    try:
        yield out
    finally:
        out.close()
    if not out.opened:
        out.write("")  # nothing was said: the complete transcript is empty
        out.close()
    try:
        os.replace(partial, output)
    except OSError as exc:
        raise failed(output, exc) from None
    if journal is not None:
        remove_journal(journal)


class PartialFile:
    """NAME.partial, created by the first write: a run that receives nothing leaves nothing."""

    def __init__(self, path: str):
        self.path = path
        self.file: Optional[TextIO] = None
        self.opened = False

    def write(self, text: str):
        try:
            if self.file is None:
                self.file = open(self.path, "w", encoding="utf-8")
                self.opened = True
            self.file.write(text)
        except OSError as exc:  # a full disk, say: the batch stops, with the reason
            raise failed(self.path, exc) from None

    def flush(self):
        if self.file is not None:
            try:
                self.file.flush()
            except OSError as exc:
                raise failed(self.path, exc) from None

    def close(self):
        if self.file is not None:
            file, self.file = self.file, None
            try:
                file.close()
            except OSError as exc:
                raise failed(self.path, exc) from None


def failed(path: str, exc: OSError) -> OutputFailed:
    return OutputFailed(f"{path}: {(exc.strerror or str(exc)).lower()}")


class SharedLines:
    """The batch's stdout: whole lines, one at a time, from every worker."""

    def __init__(self, stdout: TextIO, output_format: str):
        self.stdout = stdout
        self.mark = mark_json if output_format == "json" else mark_text
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def stream(self, item: Item):
        lines = FileLines(self, item.path)
        try:
            yield lines
        finally:
            lines.close()

    def write_line(self, line: str):
        with self.lock:
            self.stdout.write(line)
            self.stdout.flush()


class FileLines:
    """A text stream for one file's renderer: it holds back each line until it is whole."""

    def __init__(self, shared: SharedLines, path: str):
        self.shared = shared
        self.path = path
        self.pending = ""

    def write(self, text: str):
        lines = (self.pending + text).split("\n")
        self.pending = lines.pop()
        for line in lines:
            self.shared.write_line(self.shared.mark(self.path, line) + "\n")

    def flush(self):
        """Lines go out when they are whole."""

    def close(self):
        if self.pending:
            self.write("\n")


def mark_text(path: str, line: str) -> str:
    """`path: line`, as grep shows the lines of several files; see `shown_name`."""
    return f"{shown_name(path)}: {line}"


def shown_name(path: str) -> str:
    """The path as it is, unless a control character in it (a newline) would break the line:
    then quoted, with escapes, as JSON writes it."""
    if any(unicodedata.category(char) == "Cc" for char in path):
        return json.dumps(path, ensure_ascii=False)
    return path


def mark_json(path: str, line: str) -> str:
    """A JSON object with the file's name as its first member."""
    if not line.startswith("{"):
        return line
    name = json.dumps(path, ensure_ascii=False)
    return f'{{"file": {name}, {line[1:]}' if line[1:].strip() != "}" else f'{{"file": {name}}}'
