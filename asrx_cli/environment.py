"""The streams a run talks to, and what they are, decided once at start-up."""

import dataclasses
import shutil
import sys
from typing import BinaryIO, TextIO


@dataclasses.dataclass
class Environment:
    stdin: BinaryIO
    stdout: TextIO
    stderr: TextIO
    stdout_isatty: bool
    stderr_isatty: bool
    stdin_isatty: bool = False

    @classmethod
    def from_system(cls) -> "Environment":
        stdin = getattr(sys.stdin, "buffer", sys.stdin)
        return cls(
            stdin=stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
            stdin_isatty=_isatty(sys.stdin),
        )

    @property
    def columns(self) -> int:
        return shutil.get_terminal_size((80, 24)).columns


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
