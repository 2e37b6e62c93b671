"""Quiet decoders: libmpg123 (inside libsndfile) prints notes on file descriptor 2 by itself.

A damaged MP3 makes it write "Note: Illegal Audio-MPEG-Header ..." straight
to the process's stderr, past Python. While libsndfile opens a file, fd 2 is
pointed at a temporary file; afterwards the decoder's lines go to the log
(seen with -v) and anything else written there meanwhile (another thread's
warning) goes on to stderr unchanged. One file is opened so at a time.
"""

import contextlib
import logging
import os
import sys
import tempfile
import threading

log = logging.getLogger("asrx")

DECODER_LINES = (b"Note: ", b"Warning: ", b"[src/libmpg123", b"[libmpg123")
_one_at_a_time = threading.Lock()


@contextlib.contextmanager
def decoder_notes_logged():
    with _one_at_a_time, tempfile.TemporaryFile() as capture:
        _flush_stderr()
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            _flush_stderr()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            _pass_on(capture.read())


def _pass_on(written: bytes):
    """The decoder's lines to the log, the rest to stderr as it came."""
    others = b""
    for line in written.splitlines(keepends=True):
        if line.startswith(DECODER_LINES):
            log.info("decoder: %s", line.decode(errors="replace").rstrip())
        else:
            others += line
    if others:
        os.write(2, others)


def _flush_stderr():
    with contextlib.suppress(Exception):  # whatever stands in for stderr, or none
        sys.stderr.flush()
