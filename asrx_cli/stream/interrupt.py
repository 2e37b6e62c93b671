"""Ctrl-C and SIGTERM: a flag the signal handler sets, and the events the threads of a session
watch."""

import contextlib
import signal
import threading

from asrx_cli.errors import Interrupted, Terminated

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class InterruptFlag:
    """The first Ctrl-C or SIGTERM (`timeout`, systemd, `docker stop`) stops the audio; the next
    signal ends at once."""

    def __init__(self):
        self.stop = threading.Event()
        self.pressed = False
        self.terminated = False  # the first signal was SIGTERM
        # The second press, for a session whose receiver is not the main thread (a batch's).
        self.abandon = threading.Event()

    def press(self):
        """What the first Ctrl-C does; a batch does it to each running file."""
        self.pressed = True
        self.stop.set()

    def stopped(self, seconds: float) -> Interrupted:
        """The error that ends a run stopped after `seconds` of audio."""
        if self.terminated:
            return Terminated(f"terminated after {seconds:.1f} s of audio")
        return Interrupted(f"interrupted after {seconds:.1f} s of audio")

    def _handle(self, signum, frame):
        # Only flags here; a second Ctrl-C gets Python's default (KeyboardInterrupt), a second
        # SIGTERM the system's (the process ends).
        self.terminated = signum == signal.SIGTERM  # the first signal: the handler goes with it
        self.press()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    @contextlib.contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {signum: signal.signal(signum, self._handle) for signum in SIGNALS}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
