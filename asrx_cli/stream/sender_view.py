"""The main thread's view of one session's sender, from the messages it sends."""

import logging
import queue
import time
from typing import Optional

from asrx_cli.errors import AudioError, ConnectionFailed, ServerStalled
from asrx_cli.messages import Ending, Finished, Resumed, Sent, Skipped, Starved, waiting

log = logging.getLogger("asrx")


class SenderView:
    """The main thread's view of the sender, built from the messages it sends."""

    def __init__(self, on_progress=None, seconds: float = 0.0):
        self.news: "queue.SimpleQueue" = queue.SimpleQueue()
        self.on_progress = on_progress
        self.origin = seconds  # where in the input this session's audio starts
        self.seconds = seconds  # audio sent: how far in the input
        self.ending = False  # the end-of-stream message is going or has gone out
        self.finished: Optional[Finished] = None
        self.last_sent = time.monotonic()  # when audio last went out, as far as the news tell
        self.starved = False  # the input has nothing to send: the sender is not sending

    def update(self):
        """Take in every message the sender has sent so far."""
        seconds = self.seconds
        for message in waiting(self.news):
            if isinstance(message, Resumed):
                self.origin = self.seconds = message.seconds
                self.starved = False
                continue
            if isinstance(message, Skipped):
                self.origin += message.seconds
                log.warning("the connection was down longer than --max-buffer: "
                            "%.1f s of audio dropped from %.1f s of the input",
                            message.seconds, self.seconds)
                continue
            self.starved = isinstance(message, Starved)
            if isinstance(message, Starved):
                self.seconds = max(self.seconds, message.seconds)
                continue
            assert isinstance(message, (Sent, Ending, Finished))  # the sender sends nothing else
            self.seconds = self.origin + message.seconds
            if isinstance(message, Ending):
                self.ending = True
            elif isinstance(message, Finished):
                self.finished = message
                self.ending = message.end_sent
        if self.seconds != seconds:
            self.last_sent = time.monotonic()
            if self.on_progress is not None:
                self.on_progress(self.seconds)

    @property
    def unexpected_error(self) -> Optional[BaseException]:
        """A failure of the sender that ends the run now: a stalled server, or no audio or
        connection failure.

        Audio and connection failures are reported later, once the server had its say.
        """
        error = self.finished.error if self.finished else None
        if (isinstance(error, ServerStalled)
                or not isinstance(error, (AudioError, ConnectionFailed))):
            return error  # no answer can come: end now, not at the end-marker deadline
        return None

    def idle_for(self) -> float:
        """Seconds since audio last went out."""
        return time.monotonic() - self.last_sent

    @property
    def send_failed(self) -> Optional[ConnectionFailed]:
        """The connection failure that stopped the sender before the end of the audio, if one
        did."""
        error = self.finished.error if self.finished else None
        if isinstance(error, ConnectionFailed) and not self.ending:
            return error
        return None
