"""A scripted ASRX server for the client's tests.

A real WebSocket server (the `websockets` library) on 127.0.0.1, port 0, in a
thread of its own. It speaks the documented protocol from a script: messages
sent once so many seconds of audio have arrived, messages after the
end-of-stream message, the end marker. It records everything it receives.
"""

import asyncio
import dataclasses
import http
import json
import random
import threading
import time
from typing import Callable, List, Optional, Sequence, Tuple, Union

from websockets.asyncio.server import serve

from asrx_cli.wire import (
    BYTES_PER_SECOND,
    MESSAGE_TYPE,
    NEW_SENTENCE,
    SENTENCE,
    realtime,
)
from asrx_cli.wire import CONFIRM_CLOSE as CONFIRM_CLOSE_TEXT
from asrx_cli.wire import END_MARKER as END_OF_PROCESS
from asrx_cli.wire import is_end_of_stream as _is_end_of_stream

CONFIRM_CLOSE = {"type": MESSAGE_TYPE, "text": CONFIRM_CLOSE_TEXT}

Message = Union[dict, str, bytes]


def sentence(text: str) -> dict:
    return realtime(SENTENCE, text)


def new_sentence(text: str) -> dict:
    return realtime(NEW_SENTENCE, text)


@dataclasses.dataclass
class Script:
    # (seconds of audio received, message): sent when that much audio has arrived
    timed: List[Tuple[float, Message]] = dataclasses.field(default_factory=list)
    # sent after the end-of-stream message, before the end marker
    at_end: List[Message] = dataclasses.field(default_factory=list)
    end_marker: Optional[Message] = dataclasses.field(default_factory=lambda: dict(END_OF_PROCESS))
    close_after_seconds: Optional[float] = None  # the server hangs up mid-stream
    # close right after the marker instead of waiting for the client
    close_after_marker: bool = False
    reject_status: Optional[int] = None  # refuse the handshake with this HTTP status
    reject_headers: dict = dataclasses.field(default_factory=dict)  # and these headers
    delay_replies: float = 0.0
    # messages made from what the connection brought, sent after `at_end`
    answer: Optional[Callable[["Record"], List[Message]]] = None
    # makes each connection's listener: its audio frames in, messages to send at once out
    listener: Optional[Callable[[], Callable[[bytes], Sequence[Message]]]] = None
    # the input the client streams: `timed` then counts seconds of that input, from wherever
    # in it the connection's audio starts (a replay), as a server that hears the speech would
    input_audio: Optional[bytes] = None


@dataclasses.dataclass
class Record:
    """What one connection brought."""

    headers: dict
    path: str
    audio: bytearray = dataclasses.field(default_factory=bytearray)
    frame_sizes: List[int] = dataclasses.field(default_factory=list)
    arrivals: List[float] = dataclasses.field(default_factory=list)  # monotonic, per audio frame
    texts: List[str] = dataclasses.field(default_factory=list)
    end_of_stream: Optional[dict] = None
    closed_by_client: Optional[bool] = None
    close_code: Optional[int] = None
    finished: threading.Event = dataclasses.field(default_factory=threading.Event)
    starts_at: Optional[int] = None  # bytes: where in the script's input_audio this audio starts

    def wait_finished(self, timeout: float = 5.0) -> "Record":
        assert self.finished.wait(timeout), "the connection did not end"
        return self

    @property
    def seconds(self) -> float:
        return len(self.audio) / BYTES_PER_SECOND


def _encode(message: Message):
    return json.dumps(message, ensure_ascii=False) if isinstance(message, dict) else message


def is_end_of_stream(text: str) -> bool:
    try:
        message = json.loads(text)
    except ValueError:
        return False
    return isinstance(message, dict) and _is_end_of_stream(message)


class ScriptedServer:
    """`script` may be a list: one script per connection, in order, the last for any further."""

    def __init__(self, script: Union[None, Script, List[Script]] = None, api_key: str = "test-key",
                 ssl_context=None, max_sessions: Optional[int] = None, retry_after: str = "1"):
        self.scripts = script if isinstance(script, list) else [script or Script()]
        self.handshakes = 0
        self.handshake_times: List[float] = []  # monotonic, every handshake, refused ones too
        # Beyond `max_sessions` connections at once, a handshake gets 503 with Retry-After.
        self.max_sessions = max_sessions
        self.retry_after = retry_after
        self.admitted = 0  # handshakes let through whose connection has not ended
        self.busy_refusals = 0
        self._chosen = {}  # connection -> its script
        self.api_key = api_key
        self.ssl_context = ssl_context
        self.records: List[Record] = []
        self.open_sessions = 0  # connections open now
        self.most_open_sessions = 0  # the most open at any one time
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = None
        self.port = None

    @property
    def url(self) -> str:
        scheme = "wss" if self.ssl_context else "ws"
        return f"{scheme}://127.0.0.1:{self.port}/asrx"

    @property
    def record(self) -> Record:
        assert len(self.records) == 1, f"expected one connection, got {len(self.records)}"
        return self.records[0]

    def start(self) -> "ScriptedServer":
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _serve(self):
        return await serve(self._handle, "127.0.0.1", 0, ssl=self.ssl_context,
                           process_request=self._check_request, max_size=None, ping_interval=None)

    def stop(self):
        async def shutdown():
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def script(self) -> Script:
        return self.scripts[0]

    def _check_request(self, connection, request):
        self.handshake_times.append(time.monotonic())
        if self.max_sessions is not None and self.admitted >= self.max_sessions:
            self.busy_refusals += 1  # no script taken: the refused client has not begun
            return self._refuse(connection, http.HTTPStatus.SERVICE_UNAVAILABLE,
                                {"Retry-After": self.retry_after})
        script = self.scripts[min(self.handshakes, len(self.scripts) - 1)]
        self.handshakes += 1
        self._chosen[connection] = script
        if script.reject_status:
            status = http.HTTPStatus(script.reject_status)
            return self._refuse(connection, status, script.reject_headers)
        if request.headers.get("apikey") != self.api_key:
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "invalid API key\n")
        self.admitted += 1  # counted here, not once open: two handshakes at once see each other
        return None

    @staticmethod
    def _refuse(connection, status: http.HTTPStatus, headers: dict):
        response = connection.respond(status, "refused\n")
        for name, value in headers.items():
            response.headers[name] = value
        return response

    async def _handle(self, ws):
        record = Record(headers=dict(ws.request.headers), path=ws.request.path)
        self.records.append(record)
        self.open_sessions += 1
        self.most_open_sessions = max(self.most_open_sessions, self.open_sessions)
        script = self._chosen.pop(ws)
        pending = sorted(script.timed, key=lambda item: item[0])
        listen = script.listener() if script.listener else None
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    for reply in listen(message) if listen else []:
                        await self._reply(ws, script, reply)
                    if await self._on_audio(ws, script, record, message, pending):
                        return
                elif await self._on_text(ws, script, record, message, pending):
                    return
        finally:
            self.open_sessions -= 1
            self.admitted -= 1
            record.close_code = ws.close_code
            if record.closed_by_client is None:
                record.closed_by_client = True
            record.finished.set()

    async def _on_audio(self, ws, script: Script, record: Record, data: bytes, pending) -> bool:
        record.arrivals.append(time.monotonic())
        record.audio += data
        record.frame_sizes.append(len(data))
        heard = record.seconds
        if script.input_audio is not None:
            if record.starts_at is None:
                record.starts_at = locate(bytes(record.audio), script.input_audio)
            heard = (-1.0 if record.starts_at is None
                     else heard + record.starts_at / BYTES_PER_SECOND)
        while pending and pending[0][0] <= heard:
            await self._reply(ws, script, pending.pop(0)[1])
        limit = script.close_after_seconds
        if limit is not None and record.seconds >= limit:
            record.closed_by_client = False
            await ws.close(1011, "server going away")
            return True
        return False

    async def _on_text(self, ws, script: Script, record: Record, text: str, pending) -> bool:
        record.texts.append(text)
        if not is_end_of_stream(text):
            return False
        record.end_of_stream = json.loads(text)
        for _, message in pending:
            await self._reply(ws, script, message)
        pending.clear()
        for message in script.at_end + (script.answer(record) if script.answer else []):
            await self._reply(ws, script, message)
        if script.end_marker is not None:
            await self._reply(ws, script, script.end_marker)
        if script.close_after_marker:
            record.closed_by_client = False
            await ws.close()
            return True
        return False

    async def _reply(self, ws, script: Script, message: Message):
        if script.delay_replies:
            await asyncio.sleep(script.delay_replies)
        await ws.send(_encode(message))


def locate(received: bytes, source: bytes, stretch: int = 2048) -> Optional[int]:
    """Where in `source` the audio `received` starts, once it holds `stretch` bytes past its
    silence."""
    sound = next((i for i in range(0, len(received) - 1, 2) if received[i:i + 2] != b"\0\0"), None)
    if sound is None or len(received) - sound < stretch:
        return None
    found = source.find(received[sound:sound + stretch])
    while found >= 0 and found % 2:  # samples start on even bytes
        found = source.find(received[sound:sound + stretch], found + 1)
    return None if found < 0 else found - sound


def late_script(truth, texts, seed=3):
    """Each utterance's words 300-800 ms after they were spoken; NewSentence opens the next."""
    late = random.Random(seed)
    timed = []
    for index, ((onset, offset), text) in enumerate(zip(truth, texts)):
        words = text.split()
        opening = new_sentence if index else sentence
        timed.append((onset + late.uniform(0.3, 0.8), opening(words[0])))
        middle = (onset + offset) / 2
        timed.append((middle + late.uniform(0.3, 0.8),
                      sentence(" ".join(words[:max(1, len(words) // 2)]))))
        timed.append((offset + late.uniform(0.3, 0.8), sentence(text)))
    return Script(timed=timed)
