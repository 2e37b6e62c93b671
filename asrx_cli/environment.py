"""The streams a run talks to, and what they are, decided once at start-up.

The entry point builds one from the system and passes it down; tests build
their own (a terminal on stdout, a given width) without a pseudo-terminal.
"""

import dataclasses
import shutil
import sys
from typing import BinaryIO, TextIO, cast


@dataclasses.dataclass
class Environment:
    stdin: BinaryIO
    stdout: TextIO
    stderr: TextIO
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    stdin_isatty: bool = False
    columns: int = 80  # width of the terminal, where there is one

    @classmethod
    def from_system(cls) -> "Environment":
        return cls(
            stdin=cast(BinaryIO, getattr(sys.stdin, "buffer", sys.stdin)),
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
            stdin_isatty=_isatty(sys.stdin),
            columns=shutil.get_terminal_size((80, 24)).columns,
        )


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
