"""A worker process: runs the engine for the sessions the server gives it.

PocketSphinx holds the GIL while it decodes, so threads would leave all but
one core idle; the server runs one such process per core instead. A worker
reads requests on stdin and answers each, in order, on stdout:

    request: (request_id, stream_id, operation, payload)
    reply:   (request_id, ok, result or error text)

with operations open, feed (payload: PCM bytes), finish and close. Its first
message is ("ready", engine name) or ("failed", why).

Run as `python -m asrx_cli.server.worker ENGINE`.
"""

import os
import signal
import sys

from asrx_cli.server import ipc
from asrx_cli.server.engines import load_engine
from asrx_cli.server.transcriber import Transcriber


def _private_stdout():
    """A file for replies only; whatever else writes to fd 1 lands on stderr."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return replies


class Worker:
    def __init__(self, engine):
        self.engine = engine
        self.transcribers = {}

    def handle(self, stream_id, operation, payload):
        if operation == "open":
            self.transcribers[stream_id] = Transcriber(self.engine.open())
            return None
        if operation == "feed":
            return self.transcribers[stream_id].feed(payload)
        if operation == "finish":
            return self.transcribers[stream_id].finish()
        if operation == "close":
            transcriber = self.transcribers.pop(stream_id, None)
            if transcriber is not None:
                transcriber.close()
            return None
        raise ValueError(f"unknown operation {operation!r}")


def main(argv=None) -> int:
    # Ctrl-C in a terminal reaches the whole process group; the server stops
    # its workers itself, in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    replies = _private_stdout()
    engine_name = (argv or sys.argv[1:])[0]

    def send(message):
        replies.write(ipc.encode(message))
        replies.flush()

    try:
        worker = Worker(load_engine(engine_name))
    except Exception as exc:  # reported to the server, which says it in one line
        send(("failed", f"{type(exc).__name__}: {exc}"))
        return 1
    try:
        send(("ready", engine_name))
        serve_requests(worker, sys.stdin.buffer, send)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server is gone: nobody to answer
    return 0


def serve_requests(worker, requests, send) -> None:
    while True:
        request = ipc.read_blocking(requests)
        if request is None:  # the server closed the pipe: time to go
            return
        request_id, stream_id, operation, payload = request
        try:
            result = (request_id, True, worker.handle(stream_id, operation, payload))
        except Exception as exc:
            result = (request_id, False, f"{type(exc).__name__}: {exc}")
        send(result)


if __name__ == "__main__":
    sys.exit(main())
