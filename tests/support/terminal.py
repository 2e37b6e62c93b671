"""The installed asrx in a subprocess, on a pipe or a pseudo-terminal."""

import fcntl
import os
import pty
import select
import struct
import termios
import time

from tests.support.run import start_asrx


def read_line(stream, timeout=10.0) -> bytes:
    """One line from a pipe, failing the test instead of hanging."""
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no complete line within {timeout} s (got {line!r})"
        byte = os.read(stream.fileno(), 1)
        assert byte, f"EOF before a complete line (got {line!r})"
        line += byte
    return line


def open_terminal(columns=80, rows=24):
    """A pseudo-terminal with a size, as a real one has."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    return primary, secondary


def read_all(fd) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the pty's other side is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def run_on_terminal(server, stream, *args):
    """Run asrx with `stream` ("stdout" or "stderr") on a terminal; what it showed there."""
    primary, secondary = open_terminal()
    process = start_asrx("transcribe", "--url", server.url, *args, **{stream: secondary})
    os.close(secondary)
    shown = read_all(primary).decode()
    os.close(primary)
    assert process.wait(timeout=15) == 0
    return process, shown
