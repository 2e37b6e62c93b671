"""The ASRX server-to-client protocol as a pure state machine: frames in, events out.

See docs/protocol.md: each `Sentence` message carries the whole current hypothesis
of the sentence being spoken; `NewSentence` closes the previous sentence and
opens the next with its own first hypothesis; the end marker closes the last.
"""

import dataclasses
import json
from typing import List, Optional, Union

from asrx_cli.wire import END_MARKERS, NEW_SENTENCE_STATES, SENTENCE_STATES


@dataclasses.dataclass(frozen=True)
class Partial:
    sentence: int
    text: str
    offset: float


@dataclasses.dataclass(frozen=True)
class Final:
    sentence: int
    text: str
    start: float
    end: float
    timing: str = "arrival"  # "speech" once placed on the speech it came from (align.py)


@dataclasses.dataclass(frozen=True)
class EndOfProcess:
    marker: str


@dataclasses.dataclass(frozen=True)
class Ignored:
    reason: str
    frame: Union[str, bytes]


Event = Union[Partial, Final, EndOfProcess, Ignored]


def parse_frame(frame: Union[str, bytes]) -> Union[dict, Ignored]:
    """A text frame as a JSON object, or the reason it is not one."""
    if isinstance(frame, bytes):
        return Ignored("binary frame", f"<{len(frame)} bytes>")
    try:
        message = json.loads(frame)
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        return Ignored("not JSON", frame)
    if not isinstance(message, dict):
        return Ignored("not a JSON object", frame)
    return message


def normalise_state(state) -> Optional[str]:
    if not isinstance(state, str):
        return None
    folded = state.strip().lower()
    if folded in NEW_SENTENCE_STATES:
        return "new"
    if folded in SENTENCE_STATES:
        return "same"
    return None


def printable(text: str) -> str:
    """The text trimmed, with what UTF-8 cannot encode (lone surrogates from JSON escapes)
    replaced."""
    return text.strip().encode("utf-8", errors="replace").decode("utf-8")


def begins_alike(text: str, other: str) -> bool:
    """Whether two hypotheses begin with the same word (or one word grown into the other: scripts
    written without spaces, such as Thai, give a run of words as one)."""
    first, second = (text.split() or [""])[0], (other.split() or [""])[0]
    if not first or not second:
        return False
    shorter, longer = sorted((first, second), key=len)
    return shorter == longer or (len(shorter) >= 4 and longer.startswith(shorter))


class Transcript:
    """Tracks sentences across server messages.

    Sentences are numbered from 0 in the order they get their first words.
    `offset` arguments are seconds of audio sent when a frame arrived: the
    server sends no timestamps, so these are estimates.
    """

    def __init__(self):
        self.count = 0  # sentences given a number so far
        self.text = ""  # latest hypothesis of the open sentence
        self.start: Optional[float] = None  # offset of the open sentence's first words
        self.resumed = False  # a new session: its first sentence continues the open one
        self.echo_before: Optional[float] = None  # a resumed session's sentence begun before: said
        self.echo = False  # the new session's sentence under way is one already final

    def resume(self, echo_before: Optional[float] = None):
        """A new session begins with the open sentence's audio: its first sentence is that sentence.

        The open sentence stays (its text is kept should nothing more come),
        and the new session's first message replaces its text instead of
        closing it, whatever its state says. A replay that starts inside the
        audio of a sentence already final makes the server say its end again:
        a sentence of the new session whose first words come before
        `echo_before` (where the open sentence's first words came the first
        time) is that, and is not shown.
        """
        self.resumed = True
        self.echo_before = echo_before

    def feed(self, frame: Union[str, bytes], offset: float) -> List[Event]:
        message = parse_frame(frame)
        if isinstance(message, Ignored):
            return [message]
        text = message.get("text")
        if not isinstance(text, str):  # a list or an object where text goes is not ours to read
            return [Ignored("unknown message", frame)]
        if text in END_MARKERS:
            return self.finish(offset) + [EndOfProcess(text)]
        state = normalise_state(message.get("state"))
        if state is None:
            return [Ignored("unknown message", frame)]
        if self.resumed and self._echoes(state, offset, printable(text)):
            return [Ignored("said before the connection was lost", frame)]
        events = self.finish(offset) if state == "new" and not self.resumed else []
        self.resumed = False
        return events + self._hypothesis(printable(text), offset)

    def _echoes(self, state: str, offset: float, text: str) -> bool:
        """Whether a message of a resumed session belongs to a sentence already final.

        A sentence that begins as the open one began is the open one, however
        early its words came: the server's words outweigh their timing.
        """
        if self.echo_before is None:
            return False
        if state == "new" or not self.echo:  # a sentence begins: where, and how?
            self.echo = offset < self.echo_before and not begins_alike(text, self.text)
        if not self.echo:
            self.echo_before = None  # the open sentence again: the rest as usual
        return self.echo

    def _hypothesis(self, text: str, offset: float) -> List[Event]:
        if text == self.text:
            return []
        if self.start is None:
            if not text:
                return []
            self.start = offset
        self.text = text
        return [Partial(self.count, text, offset)]

    def finish(self, offset: float) -> List[Event]:
        """Close the open sentence, if it has words."""
        if self.start is None or not self.text:
            self.start, self.text = None, ""
            return []
        final = Final(self.count, self.text, self.start, offset)
        self.count += 1
        self.start, self.text = None, ""
        return [final]
