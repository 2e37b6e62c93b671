"""Where the transcript goes: stdout, or a file that is closed, and checked, at the end."""

import contextlib
from typing import Optional

from asrx_cli.environment import Environment
from asrx_cli.errors import OutputFailed, UsageError


@contextlib.contextmanager
def open_output(path: Optional[str], env: Environment):
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
        raise OutputFailed((exc.strerror or str(exc)).lower()) from None
