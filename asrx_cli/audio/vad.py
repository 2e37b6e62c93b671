"""Where speech is in the audio asrx sends: WebRTC's voice-activity detector, on the decoder thread.

The server sends no timestamps, but asrx holds the audio. `SpeechDetector`
runs WebRTC's voice-activity detector over the 16 kHz stream and reports
where speech starts and stops, in seconds from the first sample of the
stream. It runs beside the audio source (asrx_cli/audio/tracked.py), which
sends its findings to the main thread's `SpeechTimeline`
(asrx_cli/transcript/timeline.py).
"""

import collections
from typing import Deque, List, Optional, Tuple

import webrtcvad

from asrx_cli.messages import SpeechChange, SpeechEnded, SpeechStarted
from asrx_cli.wire import BYTES_PER_SECOND, SAMPLE_RATE, SAMPLE_WIDTH

FRAME_SECONDS = 0.03  # WebRTC's VAD judges 10, 20 or 30 ms frames
FRAME_BYTES = int(SAMPLE_RATE * FRAME_SECONDS) * SAMPLE_WIDTH
AGGRESSIVENESS = 3  # 0-3: 3 calls the fewest non-speech frames speech
ONSET_WINDOW = 6  # speech starts once ONSET_VOICED of the last ONSET_WINDOW frames are voiced
ONSET_VOICED = 4
HANGOVER_FRAMES = 8  # speech stops after this many unvoiced frames (240 ms) in a row


class SpeechDetector:
    """16 kHz mono s16le bytes in, in blocks of any size; speech boundaries out.

    WebRTC's frame decisions flicker, so a run of speech needs most of a few
    frames voiced to start (and starts at the first voiced frame among them)
    and a quarter second of unvoiced frames to stop (and stops where the last
    voiced frame ends). Pauses shorter than that stay inside one segment.
    """

    def __init__(self, aggressiveness: int = AGGRESSIVENESS):
        self._vad = webrtcvad.Vad(aggressiveness)
        self._pending = b""
        self._frames = 0  # frames judged so far
        # (frame, voiced)
        self._recent: Deque[Tuple[int, bool]] = collections.deque(maxlen=ONSET_WINDOW)
        self._in_speech = False
        self._last_voiced = -1  # index of the last voiced frame
        self._silent_run = 0

    def feed(self, pcm: bytes) -> List[SpeechChange]:
        data = self._pending + pcm
        usable = len(data) - len(data) % FRAME_BYTES
        changes: List[SpeechChange] = []
        for start in range(0, usable, FRAME_BYTES):
            change = self._judge(self._vad.is_speech(data[start:start + FRAME_BYTES], SAMPLE_RATE))
            if change is not None:
                changes.append(change)
        self._pending = data[usable:]
        return changes

    def finish(self) -> List[SpeechChange]:
        """The stream ended: speech under way ends with its last voiced frame."""
        if not self._in_speech:
            return []
        self._in_speech = False
        return [SpeechEnded(self._frame_time(self._last_voiced + 1))]

    def _judge(self, voiced: bool) -> Optional[SpeechChange]:
        index = self._frames
        self._frames += 1
        self._recent.append((index, voiced))
        if voiced:
            self._last_voiced, self._silent_run = index, 0
        else:
            self._silent_run += 1
        if not self._in_speech:
            if sum(v for _, v in self._recent) >= ONSET_VOICED:
                self._in_speech = True
                first = next(i for i, v in self._recent if v)
                return SpeechStarted(self._frame_time(first))
        elif self._silent_run >= HANGOVER_FRAMES:
            self._in_speech = False
            self._recent.clear()
            return SpeechEnded(self._frame_time(self._last_voiced + 1))
        return None

    @staticmethod
    def _frame_time(index: int) -> float:
        return round(index * FRAME_BYTES / BYTES_PER_SECOND, 3)
