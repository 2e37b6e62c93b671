"""Ctrl-C: a flag the signal handler sets, and the events the threads of a session watch."""

import contextlib
import signal
import threading


class InterruptFlag:
    """Ctrl-C handling: the first press stops the audio, the second ends at once."""

    def __init__(self):
        self.stop = threading.Event()
        self.pressed = False
        # The second press, for a session whose receiver is not the main thread (a batch's).
        self.abandon = threading.Event()

    def press(self):
        """What the first Ctrl-C does; a batch does it to each running file."""
        self.pressed = True
        self.stop.set()

    def _handle(self, signum, frame):
        # Only flags here; the second press gets Python's default (KeyboardInterrupt).
        self.press()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    @contextlib.contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)
