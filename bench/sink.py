"""A receiving ASRX server for the benchmarks, run in a process of its own (clients.SinkProcess):
a binary frame costs a header parse, its payload is never unmasked (bench/README.md says why)."""

import asyncio
import json
import time
from array import array
from urllib.parse import parse_qs, urlsplit

from websocket import ABNF

from asrx_cli.wire import END_MARKER, NEW_SENTENCE, SENTENCE, is_end_of_stream, realtime
from tests.support.rawserver import client_frames, frame, upgrade_answer

# Thai, as the service sends it: multi-byte UTF-8 with combining marks.
WORDS = ["สวัสดีครับ", "ผมเสียงผู้ใหญ่", "ผู้ชายครับ", "วันนี้อากาศดี"]


def build_script(sentences: int, every: float, partials: int) -> list:
    """(seconds after the first audio frame, sentence, message): each sentence opens with
    NewSentence (the first with Sentence) and grows a word a partial; its number keeps printed
    lines matched to messages."""
    timed = []
    for index in range(sentences):
        for step in range(partials + 1):
            words = (WORDS[(index + word) % len(WORDS)] for word in range(step + 1))
            state = NEW_SENTENCE if index and not step else SENTENCE
            message = realtime(state, f"{index:05d} " + " ".join(words))
            timed.append(((index + 1 + step / (partials + 1)) * every, index, message))
    return timed


def serve(records, script: list):
    """Serve on 127.0.0.1 until killed; the port, then each connection's record, go to `records`."""
    async def run():
        server = await asyncio.get_running_loop().create_server(
            lambda: Connection(records, script), "127.0.0.1", 0)
        records.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(run())


class Connection(asyncio.Protocol):
    """One client: the server's half of RFC 6455, and what the client did, stamped on arrival."""

    def __init__(self, records, script: list):
        self.records, self.script = records, script
        self.buffer, self.open, self.closed, self.player = bytearray(), False, False, None
        # sent: (sentence, text, stamp just before)
        self.record = {"tag": "", "opened": time.monotonic(), "end_marker_sent": None, "sent": []}
        self.arrivals, self.sizes = array("d"), array("l")  # of each audio frame

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes):
        stamp = time.monotonic()  # every frame of one read shares its stamp
        if not self.closed:
            self.buffer += data
            if self.open or self.handshake():
                del self.buffer[:self.frames(stamp)]

    def connection_lost(self, exc):
        self.finish()

    def handshake(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        request = bytes(self.buffer[:end + 4])
        del self.buffer[:end + 4]
        self.transport.write(upgrade_answer(request))
        self.open = True
        path = request.split(b" ")[1].decode("latin-1")
        self.record["tag"] = parse_qs(urlsplit(path).query).get("tag", [""])[0]
        return True

    def frames(self, stamp: float) -> int:
        """Handle every whole frame in the buffer; return the bytes they took."""
        end = 0
        for opcode, start, length, mask in client_frames(self.buffer):
            if opcode in (ABNF.OPCODE_BINARY, ABNF.OPCODE_CONT):
                self.on_audio(length, stamp)
            else:
                payload = bytes(self.buffer[start:start + length])
                self.on_control(opcode, ABNF.mask(mask, payload) if mask else payload)
            end = start + length
        return end

    def on_audio(self, size: int, stamp: float):
        if self.script and not self.arrivals:
            self.player = asyncio.ensure_future(self.play(stamp))
        self.arrivals.append(stamp)
        self.sizes.append(size)

    def on_control(self, opcode: int, payload: bytes):
        if opcode == ABNF.OPCODE_TEXT:
            message = json.loads(payload)
            if isinstance(message, dict) and is_end_of_stream(message):
                if self.player is not None:
                    self.player.cancel()
                self.record["end_marker_sent"] = time.monotonic()
                self.send(END_MARKER)
        elif opcode == ABNF.OPCODE_PING:
            self.transport.write(frame(ABNF.OPCODE_PONG, payload))
        elif opcode == ABNF.OPCODE_CLOSE:
            self.transport.write(frame(ABNF.OPCODE_CLOSE, payload[:2]))
            self.finish()
            self.transport.close()

    def send(self, message: dict):
        if not self.closed:
            text = json.dumps(message, ensure_ascii=False).encode()
            self.transport.write(frame(ABNF.OPCODE_TEXT, text))

    async def play(self, first_frame: float):
        for at, index, message in self.script:
            # The loop's clock is time.monotonic, so a deadline is a plain stamp.
            await asyncio.sleep(max(0.0, first_frame + at - time.monotonic()))
            self.record["sent"].append((index, message["text"], time.monotonic()))
            self.send(message)

    def finish(self):
        if self.closed:
            return
        self.closed = True
        if self.player is not None:
            self.player.cancel()
        arrivals = self.arrivals or [None]  # no audio: no first or last frame
        self.records.put(dict(self.record, closed=time.monotonic(), arrivals=self.arrivals,
                              sizes=self.sizes, frames=len(self.sizes), bytes=sum(self.sizes),
                              first_frame=arrivals[0], last_frame=arrivals[-1]))
