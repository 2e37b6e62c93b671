"""Where utterances begin and end: PocketSphinx's endpointer, on a VAD of its own.

pocketsphinx 5's `Endpointer` never frees its C memory (about 19 KB each), so
one per session grows a worker without bound; and one kept for many sessions
would carry its voice activity detector's adaptation from one client's voice
to the next client's sentences. This is the same algorithm (pocketsphinx's
endpointer.c) over a `pocketsphinx.Vad`, which is freed: a window of frames
classified speech or not; speech starts when more than `ratio` of the window
is speech, and ends when less than `1 - ratio` is. It decides frame for frame
as the original does (tests/test_serve_endpointer.py holds them side by side).
"""

from collections import deque
from typing import Deque, Optional, Tuple

from pocketsphinx import Vad

from asrx_cli.wire import BYTES_PER_SECOND, SAMPLE_RATE


class Endpointer:
    def __init__(self, window: float = 0.3, ratio: float = 0.9, vad_mode: int = Vad.LOOSE,
                 sample_rate: int = SAMPLE_RATE, frame_length: float = Vad.DEFAULT_FRAME_LENGTH):
        self._vad = Vad(vad_mode, sample_rate, frame_length)
        self.frame_bytes = self._vad.frame_bytes
        frames = int(window / self._vad.frame_length + 0.5)
        self._start_frames = int(ratio * frames)
        self._end_frames = int((1.0 - ratio) * frames + 0.5)
        # (is speech, frame), oldest first
        self._window: Deque[Tuple[bool, bytes]] = deque(maxlen=frames)
        self.taken = 0  # bytes of the stream taken so far
        self.in_speech = False
        self.speech_start_byte = 0  # where in the stream the utterance under way began
        self.speech_frames = 0  # of the window

    def process(self, frame: bytes) -> Optional[bytes]:
        """Take one frame of `frame_bytes`; the oldest frame of the window while in speech."""
        self._window.append((self._vad.is_speech(frame), frame))
        self.taken += len(frame)
        self.speech_frames = speech_frames = sum(is_speech for is_speech, _ in self._window)
        if self.in_speech and speech_frames < self._end_frames:
            self.in_speech = False
            return self._window.popleft()[1]  # the last frame of the utterance
        if not self.in_speech and speech_frames > self._start_frames:
            self.in_speech = True
            # As pocketsphinx's: speech starts with the oldest frame of the window,
            # the one returned now.
            self.speech_start_byte = self.taken - len(self._window) * self.frame_bytes
        return self._window.popleft()[1] if self.in_speech else None

    @property
    def pausing(self) -> bool:
        """Whether half the window or more is not speech: a pause too short to end the utterance."""
        return 2 * self.speech_frames <= len(self._window)

    @property
    def speech_start(self) -> float:
        """Seconds into the stream where the utterance under way began."""
        return self.speech_start_byte / BYTES_PER_SECOND

    def end_stream(self, frame: bytes) -> Optional[bytes]:
        """The stream ended with `frame` (up to `frame_bytes`): the rest of the
        utterance under way."""
        if not self.in_speech:
            return None
        self.in_speech = False
        speech = []
        while self._window:
            is_speech, queued = self._window.popleft()
            if not is_speech:
                break
            speech.append(queued)
        else:  # speech to the very end: the last, short frame belongs to it
            speech.append(frame)
        self._window.clear()
        return b"".join(speech)
