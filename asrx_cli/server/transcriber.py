"""Cuts a session's audio into utterances and has the engine decode them.

Runs inside a worker process. The client's frames may have any size, odd
ones included: audio is regrouped into the endpointer's frames here, and a
byte left over at the end of the stream (half a sample) is dropped.
"""

from asrx_cli.server.engines import Recognizer
from asrx_cli.wire import SAMPLE_RATE
from asrx_cli.server.protocol import Hypothesis


def _new_endpointer():
    from asrx_cli.server.endpointer import Endpointer

    return Endpointer(sample_rate=SAMPLE_RATE)


class Transcriber:
    def __init__(self, recognizer: Recognizer, endpointer=None):
        self._recognizer = recognizer
        self._endpointer = endpointer or _new_endpointer()
        self._frame_bytes = self._endpointer.frame_bytes
        self._pending = bytearray()
        self._utterance = -1
        self._finished = False

    def feed(self, pcm: bytes) -> list:
        """Take more audio; return the hypotheses it changed or completed."""
        if self._finished:
            return []
        self._pending += pcm
        hypotheses = []
        heard_speech = False
        usable = len(self._pending) - len(self._pending) % self._frame_bytes
        for start in range(0, usable, self._frame_bytes):
            frame = bytes(self._pending[start:start + self._frame_bytes])
            heard_speech |= self._process_frame(frame, hypotheses)
        del self._pending[:usable]
        if heard_speech and self._endpointer.in_speech:
            # One partial per call, not per 30 ms frame: a hypothesis costs a backtrace.
            hypotheses.append(Hypothesis(self._utterance, self._recognizer.hypothesis(), False))
        return hypotheses

    def _process_frame(self, frame: bytes, hypotheses: list) -> bool:
        was_in_speech = self._endpointer.in_speech
        speech = self._endpointer.process(frame)
        if speech is None:
            return False
        if not was_in_speech:
            self._start_utterance()
        self._recognizer.accept(speech)
        if not self._endpointer.in_speech:
            hypotheses.append(self._end_utterance())
        return True

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
        self._recognizer.start_utterance()

    def _end_utterance(self) -> Hypothesis:
        return Hypothesis(self._utterance, self._recognizer.end_utterance(), True)
