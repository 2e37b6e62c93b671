"""The ASRX messages the server reads and writes (see docs/protocol.md).

Pure functions and one small state machine; no I/O, so it is easy to test.
"""

import json
from typing import NamedTuple, Optional

from asrx_cli.wire import NEW_SENTENCE, SENTENCE, realtime


class Hypothesis(NamedTuple):
    """What the engine heard of one utterance so far, or in the end."""

    utterance: int  # counts from 0 within a session
    text: str
    final: bool


class NotJson(ValueError):
    """A text frame that is not a JSON object."""


def parse_text_frame(text: str) -> dict:
    try:
        message = json.loads(text)
    except ValueError:
        raise NotJson("text frame is not JSON") from None
    except RecursionError:
        raise NotJson("text frame is JSON nested too deeply") from None
    if not isinstance(message, dict):
        raise NotJson("text frame is not a JSON object")
    return message


class SentenceMessages:
    """Turns hypotheses into the `realtime` messages a client expects.

    Each message carries the whole hypothesis of the current sentence and is
    sent only when it changed. The first message of every sentence but the
    session's first says "NewSentence"; all others say "Sentence". An
    utterance that never produced text is no sentence and sends nothing.
    """

    def __init__(self):
        self.sentences = 0
        self._utterance: Optional[int] = None
        self._last_text: Optional[str] = None  # None: nothing sent for this utterance

    def messages(self, hypotheses) -> list:
        return [m for m in (self._message(h) for h in hypotheses) if m is not None]

    def _message(self, hypothesis: Hypothesis) -> Optional[dict]:
        if hypothesis.utterance != self._utterance:
            self._utterance, self._last_text = hypothesis.utterance, None
        if hypothesis.text == (self._last_text or ""):
            return None
        first_of_sentence = self._last_text is None
        state = NEW_SENTENCE if first_of_sentence and self.sentences > 0 else SENTENCE
        if first_of_sentence:
            self.sentences += 1
        self._last_text = hypothesis.text
        return realtime(state, hypothesis.text)
