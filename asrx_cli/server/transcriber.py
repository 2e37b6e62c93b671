"""Cuts a session's audio into utterances and has the engine decode them.

Runs inside a worker process. The client's frames may have any size, odd
ones included: audio is regrouped into the endpointer's frames here, and a
byte left over at the end of the stream (half a sample) is dropped.

An utterance that goes on and on is ended by the server all the same, as
recognition services do: a decoder's search grows with the utterance (its
memory, and the cost of each partial hypothesis), so speech without a pause
long enough for the endpointer would cost more and more. Past
SOFT_LONGEST_UTTERANCE it ends at the first short pause (half the
endpointer's window not speech), and at LONGEST_UTTERANCE wherever it is.

The endpointer says speech starts where its voice detector first heard it,
which is after the onset of the first word: the audio just before that is
given to the engine too, or it hears "it was" for "he was".
"""

from typing import List

from asrx_cli.server.endpointer import Endpointer
from asrx_cli.server.engines import Recognizer
from asrx_cli.server.frames import Hypothesis
from asrx_cli.wire import BYTES_PER_SECOND, SAMPLE_RATE

LEAD_IN_BYTES = BYTES_PER_SECOND // 5
# Enough to hold the lead-in and the endpointer's look-back (0.3 s by default):
# the frames it hands over at once when it decides that speech started.
RECENT_BYTES = LEAD_IN_BYTES + BYTES_PER_SECOND
# Partial hypotheses every 0.2 s of speech or so (every call, if calls bring more).
PARTIAL_EVERY_BYTES = BYTES_PER_SECOND // 5
# Read speech has a pause of 0.15 s every few seconds, at commas and breaths.
SOFT_LONGEST_UTTERANCE = 10 * BYTES_PER_SECOND
LONGEST_UTTERANCE = 20 * BYTES_PER_SECOND


def _new_endpointer():
    return Endpointer(sample_rate=SAMPLE_RATE)


class Transcriber:
    def __init__(self, recognizer: Recognizer, endpointer=None):
        self._recognizer = recognizer
        self._endpointer = endpointer or _new_endpointer()
        self._frame_bytes = self._endpointer.frame_bytes
        self._pending = bytearray()
        self._recent = bytearray()  # the audio it had last, while out of speech
        self._unreported = 0  # bytes of speech decoded since the last partial hypothesis
        self._utterance_bytes = 0  # decoded in the utterance under way
        self._utterance = -1
        self._finished = False

    def feed(self, pcm: bytes) -> list:
        """Take more audio; return the hypotheses it changed or completed."""
        if self._finished:
            return []
        self._pending += pcm
        hypotheses: List[Hypothesis] = []
        heard_speech = False
        usable = len(self._pending) - len(self._pending) % self._frame_bytes
        for start in range(0, usable, self._frame_bytes):
            frame = bytes(self._pending[start:start + self._frame_bytes])
            heard_speech |= self._process_frame(frame, hypotheses)
        del self._pending[:usable]
        if (heard_speech and self._endpointer.in_speech
                and self._unreported >= PARTIAL_EVERY_BYTES):
            # A partial hypothesis costs a backtrace and a message:
            # a few per second, not one per frame.
            self._unreported = 0
            hypotheses.append(Hypothesis(self._utterance, self._recognizer.hypothesis(), False))
        return hypotheses

    def _process_frame(self, frame: bytes, hypotheses: list) -> bool:
        was_in_speech = self._endpointer.in_speech
        speech = self._endpointer.process(frame)
        if not was_in_speech:
            self._recent += frame
            del self._recent[:-RECENT_BYTES]
        if speech is None:
            return False
        if not was_in_speech:
            self._start_utterance()
            lead_in = self._lead_in()
            if lead_in:
                self._recognizer.accept(lead_in)
                self._utterance_bytes += len(lead_in)
        self._recognizer.accept(speech)
        self._unreported += len(speech)
        self._utterance_bytes += len(speech)
        if not self._endpointer.in_speech:
            hypotheses.append(self._end_utterance())
        elif self._too_long():
            hypotheses.append(self._end_utterance())
            self._start_utterance()  # the speech goes on: no lead-in, the audio follows on
        return True

    def _too_long(self) -> bool:
        return self._utterance_bytes >= LONGEST_UTTERANCE or (
            self._utterance_bytes >= SOFT_LONGEST_UTTERANCE and self._endpointer.pausing)

    def _lead_in(self) -> bytes:
        """The audio just before the endpointer's start of speech."""
        start = self._endpointer.speech_start_byte
        held_from = self._endpointer.taken - len(self._recent)
        lead_in = self._recent[max(0, start - LEAD_IN_BYTES - held_from):max(0, start - held_from)]
        self._recent.clear()
        return bytes(lead_in)

    def finish(self) -> list:
        """The stream ended: the utterance under way, if any, is complete."""
        if self._finished:
            return []
        self._finished = True
        if not self._endpointer.in_speech:
            return []
        rest = bytes(self._pending[: len(self._pending) & ~1])
        self._pending.clear()
        if rest:
            speech = self._endpointer.end_stream(rest)
            if speech:
                self._recognizer.accept(speech)
        return [self._end_utterance()]

    def close(self) -> None:
        self._recognizer.close()

    def _start_utterance(self) -> None:
        self._utterance += 1
        self._unreported = self._utterance_bytes = 0
        self._recognizer.start_utterance()

    def _end_utterance(self) -> Hypothesis:
        return Hypothesis(self._utterance, self._recognizer.end_utterance(), True)
