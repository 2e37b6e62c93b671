"""The messages the threads of a run send each other, all in one place.

- The decoder thread to the sender: batches of frames, a `Gap` where a live
  input's audio was dropped unsent, and `END_OF_AUDIO`, the one marker that
  ends a stream of audio (also the recorder's and the read-ahead's).
- The decoder thread to the main thread: where speech starts and stops
  (`SpeechStarted`, `SpeechEnded`).
- The sender to the main thread: what it did (`Sent`, `Ending`, `Finished`,
  and across reconnects `Resumed`, `Skipped`, `Starved`).

Positions are seconds of audio; the messages that carry one position share
its class.
"""

import dataclasses
import queue
from typing import Iterator, Optional, Union

from asrx_cli.wire import BYTES_PER_SECOND

END_OF_AUDIO = object()  # the audio is all read (or the stream was stopped): nothing more will come


@dataclasses.dataclass
class Gap:
    """Audio of the input dropped here, unsent."""

    bytes: int

    @property
    def seconds(self) -> float:
        return self.bytes / BYTES_PER_SECOND


@dataclasses.dataclass(frozen=True)
class _Position:
    seconds: float


@dataclasses.dataclass(frozen=True)
class SpeechStarted:
    """Decoder to main thread: speech starts `at` seconds of audio from the start of the stream."""

    at: float


@dataclasses.dataclass(frozen=True)
class SpeechEnded:
    """Decoder to main thread: the speech under way stopped `at` seconds of audio."""

    at: float


SpeechChange = Union[SpeechStarted, SpeechEnded]


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
    """Sender to main thread: audio of a live input dropped unsent, `seconds` of it, where the
    next frame starts."""


class Resumed(_Position):
    """Sender to main thread: this session's audio starts at `seconds` of the input."""


class Starved(_Position):
    """Sender to main thread: the input has nothing to send; no send is under way until it has.

    `seconds`: how far in the input the audio has gone out, every frame handed out being sent
    (unpaced, the sender reports a `Sent` only now and then).
    """


def waiting(messages: "queue.SimpleQueue") -> Iterator[object]:
    """The messages in the queue now, without waiting for more."""
    while True:
        try:
            yield messages.get_nowait()
        except queue.Empty:
            return
