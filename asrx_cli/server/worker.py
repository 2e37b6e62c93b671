"""Inside an engine process: the engine, and the transcribers of its sessions.

PocketSphinx holds the GIL while it decodes, so threads would leave all but
one core idle; the server runs one such process per core instead, each the
only process of a `concurrent.futures.ProcessPoolExecutor` (see workers.py)
that calls the functions below. The engine and the transcribers are module
globals because a process is where they live: the executor keeps them from
one call to the next, and a session's calls all go to the same process.
"""

import ctypes
import os
import signal
from typing import Dict, Optional, Tuple

from asrx_cli.server.engines import Engine, load_engine
from asrx_cli.server.transcriber import Transcriber

_engine: Optional[Engine] = None
_failure: Optional[str] = None
_transcribers: Dict[int, Transcriber] = {}


def initialize(engine_name: str) -> None:
    """Set the process up and load the engine (the executor's initializer)."""
    global _engine, _failure
    # Out of the terminal's process group: Ctrl-C is the server's to handle,
    # and it stops its workers itself, in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "setsid"):  # not on Windows, where ignoring SIGINT is what keeps Ctrl-C out
        os.setsid()
    # Whatever an engine prints goes to stderr: stdout is no place for logs.
    os.dup2(2, 1)
    try:
        _engine = load_engine(engine_name)
    except Exception as exc:  # told by status(): a raising initializer only breaks the executor
        _failure = f"{type(exc).__name__}: {exc}"


def status() -> Tuple[int, Optional[str]]:
    """This process's id, and why the engine did not load (None: it did)."""
    return os.getpid(), _failure


def open_stream(stream_id: int) -> None:
    # The server opens streams only once status() said that the engine loaded.
    assert _engine is not None, "the engine did not load"
    _transcribers[stream_id] = Transcriber(_engine.open())


def feed(stream_id: int, pcm: bytes) -> list:
    return _transcribers[stream_id].feed(pcm)


def finish(stream_id: int) -> list:
    return _transcribers[stream_id].finish()


def trim(idle_seconds: float) -> None:
    """Let the engine free what it keeps for sessions to come and has not
    used for `idle_seconds`."""
    trim_engine = getattr(_engine, "trim", None)  # an optional method of engines
    if trim_engine is not None and trim_engine(idle_seconds):
        _return_free_memory()


def _return_free_memory() -> None:
    """glibc keeps freed memory for reuse: of a PocketSphinx decoder's 90 MB, half goes back to the
    system when it is freed, the rest only when asked (malloc_trim)."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError, TypeError):
        pass  # not glibc: the memory stays with the process, for the next decoders


def close_stream(stream_id: int) -> None:
    transcriber = _transcribers.pop(stream_id, None)
    if transcriber is not None:
        transcriber.close()
