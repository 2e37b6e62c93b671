"""Real speech for the server's tests, and a plain client to send it.

The recordings come from Debian's pocketsphinx-testdata package: 16 kHz mono
16-bit, as raw s16le (.raw) or WAV. Their transcripts are the package's own.
"""

import json
import os
import select
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import pytest

from asrx_cli.messages import SpeechEnded, SpeechStarted
from asrx_cli.transcript.timeline import SpeechTimeline
from asrx_cli.wire import BYTES_PER_SECOND, END_OF_STREAM  # noqa: F401  (the tests take them from here)

TESTDATA = Path(os.environ.get("POCKETSPHINX_TESTDATA", "/usr/share/pocketsphinx/test/data"))
LIBRIVOX = TESTDATA / "librivox"
GOFORWARD = TESTDATA / "goforward.raw"
GOFORWARD_TEXT = "go forward ten meters"
NUMBERS = TESTDATA / "numbers.raw"
SOMETHING = TESTDATA / "something.raw"
SOMETHING_TEXT = "go somewhere and do something"

needs_testdata = pytest.mark.skipif(
    not GOFORWARD.exists(), reason=f"pocketsphinx-testdata is not installed ({TESTDATA} missing)"
)


def read_pcm(path: Path) -> bytes:
    """16 kHz mono s16le samples of a .raw or .wav test recording."""
    path = Path(path)
    if path.suffix == ".raw":
        return path.read_bytes()
    with wave.open(str(path), "rb") as recording:
        assert (recording.getframerate(), recording.getnchannels(),
                recording.getsampwidth()) == (16000, 1, 2)
        return recording.readframes(recording.getnframes())


def silence(seconds: float) -> bytes:
    return bytes(int(seconds * BYTES_PER_SECOND) & ~1)


def librivox_transcripts() -> dict:
    """Recording path -> its words, from the package's transcription file."""
    transcripts = {}
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        words, _, name = line.rpartition("(")
        words = words.replace("<s>", "").replace("</s>", "").split()
        transcripts[LIBRIVOX / (name.strip(" )") + ".wav")] = " ".join(words)
    return transcripts


def word_errors(reference: str, hypothesis: str) -> int:
    """Substitutions, insertions and deletions that turn one word list into the other."""
    ref, hyp = reference.split(), hypothesis.split()
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        current = [i]
        for j, hyp_word in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1]


def word_error_rate(references: List[str], hypotheses: List[str]) -> float:
    errors = sum(word_errors(r, h) for r, h in zip(references, hypotheses))
    return errors / sum(len(r.split()) for r in references)


# --- A plain client of the protocol (websocket-client, synchronous) ---------


@dataclass
class Exchange:
    """What the server said during one session."""

    messages: List[dict] = field(default_factory=list)
    close_code: Optional[int] = None
    close_reason: str = ""

    @property
    def realtime(self) -> List[dict]:
        return [m for m in self.messages if "state" in m]

    @property
    def end_marker(self) -> bool:
        return {"type": "realtime", "text": "end_of_process"} in self.messages

    def sentences(self) -> List[str]:
        """The final text of each sentence, as a client following the doc holds it."""
        texts = []
        for message in self.realtime:
            if message["state"] == "NewSentence" or not texts:
                texts.append(message["text"])
            else:
                texts[-1] = message["text"]
        return texts

    @property
    def transcript(self) -> str:
        return " ".join(self.sentences())


def connect(url: str, api_key: Optional[str] = "test", timeout: float = 30.0):
    import websocket

    header = {"apikey": api_key} if api_key is not None else {}
    return websocket.create_connection(url, header=header, timeout=timeout)


def send_audio(ws, pcm: bytes, frame_bytes: int = 1024) -> None:
    for start in range(0, len(pcm), frame_bytes):
        ws.send_binary(pcm[start:start + frame_bytes])


def read_until_closed(ws, exchange: Exchange, close_on_marker: bool = True) -> Exchange:
    """Collect the server's messages until it closes (or sends the end marker)."""
    import websocket

    while True:
        try:
            opcode, data = ws.recv_data(control_frame=False)
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            break
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            exchange.close_code, exchange.close_reason = parse_close(data)
            _answer_close(ws, data)
            break
        exchange.messages.append(json.loads(data))
        if close_on_marker and exchange.end_marker:
            ws.close()
            exchange.close_code = 1000
            break
    return exchange


def _answer_close(ws, data: bytes) -> None:
    """Echo the server's close frame and hang up, as a well-behaved client does."""
    try:
        ws.send_close(*parse_close(data)) if len(data) >= 2 else ws.send_close()
    except Exception:
        pass  # already gone
    ws.shutdown()


def parse_close(data: bytes):
    if len(data) < 2:
        return 1005, ""
    return int.from_bytes(data[:2], "big"), data[2:].decode("utf-8", "replace")


def server_has_spoken(ws, wait: float) -> bool:
    """True once a frame from the server is waiting to be read."""
    return bool(select.select([ws.sock], [], [], wait)[0])


def stream_until_closed(ws, seconds: float = 20.0):
    """Send silence until the server closes; what it said, and how long that took."""
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds and not server_has_spoken(ws, 0.1):
            ws.send_binary(silence(0.1))
    except OSError:
        pass  # closed while sending: the close frame is still there to read
    return read_until_closed(ws, Exchange()), time.monotonic() - started


def exchange_audio(url: str, pcm: bytes, api_key: str = "test", frame_bytes: int = 1024,
               end_of_stream: dict = END_OF_STREAM) -> Exchange:
    """Stream the audio unpaced, send the end-of-stream message, read to the end."""
    ws = connect(url, api_key)
    try:
        send_audio(ws, pcm, frame_bytes)
        ws.send(json.dumps(end_of_stream))
        return read_until_closed(ws, Exchange())
    finally:
        ws.close()


def timeline(*segments):
    line = SpeechTimeline()
    for start, end in segments:
        line.apply(SpeechStarted(start))
        if end is not None:
            line.apply(SpeechEnded(end))
    return line
