"""The messages the threads of a session send each other, all in one place.

The sender tells the main thread what it did (`Sent`, `Ending`, `Finished`,
and across reconnects `Resumed`, `Skipped`, `Starved`). Positions are seconds
of audio; the messages that carry one position share its class.
"""

import dataclasses
import queue
from typing import Iterator, Optional


@dataclasses.dataclass(frozen=True)
class _Position:
    seconds: float


class Sent(_Position):
    """Audio sent so far, after each frame."""


class Ending(_Position):
    """The end-of-stream message is about to go: the server may answer before the send returns."""


@dataclasses.dataclass(frozen=True)
class Finished:
    """The sender is done; `error` is what stopped the audio early, if anything did."""

    seconds: float
    end_sent: bool
    at: float  # monotonic clock
    error: Optional[BaseException] = None


class Skipped(_Position):
    """Sender to main thread: audio of a live input dropped unsent, `seconds` of it, where the next frame starts."""


class Resumed(_Position):
    """Sender to main thread: this session's audio starts at `seconds` of the input."""


@dataclasses.dataclass(frozen=True)
class Starved:
    """Sender to main thread: the input has nothing to send; no send is under way until it has."""


def waiting(messages: "queue.SimpleQueue") -> Iterator[object]:
    """The messages in the queue now, without waiting for more."""
    while True:
        try:
            yield messages.get_nowait()
        except queue.Empty:
            return
