"""The server's half of RFC 6455, as little of it as a sink needs, for asyncio.

Why not the `websockets` library, which `asrx serve` uses: a sink has to take
frames faster than any client sends them, and the library's per-frame work in
Python (unmasking, UTF-8 checks, queues between coroutines) made the sink, not
the client, the slower side of an unpaced stream on two cores. Here a binary
frame costs a header parse: its payload is never unmasked or copied, since
only its size and arrival matter. Text frames are unmasked and handed on;
pings are answered; a close is echoed.
"""

import asyncio
import base64
import hashlib
import struct
from typing import Callable, Optional

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG = 1, 2, 8, 9, 10
HEADER_LIMIT = 65536


def accept_key(client_key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(client_key.strip() + GUID).digest())


def server_frame(opcode: int, payload: bytes) -> bytes:
    """An unmasked final frame, as servers send them."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
    return header + payload


def unmask(payload: bytes, key: bytes) -> bytes:
    size = len(payload)
    repeated = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(size, "little")


class SinkProtocol(asyncio.Protocol):
    """One connection: handshake, then frames. Subclasses get the events:

    on_open(path), on_binary(size, stamp), on_text(text, stamp), on_closed(stamp).
    `clock` stamps each read as it arrives; every frame in a read shares its stamp.
    """

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self.transport: Optional[asyncio.Transport] = None
        self.buffer = bytearray()
        self.open = False
        self.closed = False

    # --- to override ------------------------------------------------------------------
    def on_open(self, path: str):
        pass

    def on_binary(self, size: int, stamp: float):
        pass

    def on_text(self, text: str, stamp: float):
        pass

    def on_closed(self, stamp: float):
        pass

    # --- sending ----------------------------------------------------------------------
    def send_text(self, text: str):
        if not self.closed:
            self.transport.write(server_frame(TEXT, text.encode("utf-8")))

    # --- asyncio ----------------------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes):
        stamp = self.clock()
        if self.closed:
            return
        self.buffer += data
        if not self.open and not self._handshake():
            return
        used = self._frames(stamp)
        if used:
            del self.buffer[:used]

    def connection_lost(self, exc):
        if not self.closed:
            self.closed = True
            self.on_closed(self.clock())

    def _handshake(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > HEADER_LIMIT:
                self.transport.close()
            return False
        request, *header_lines = bytes(self.buffer[:end]).split(b"\r\n")
        del self.buffer[:end + 4]
        headers = dict(line.split(b":", 1) for line in header_lines if b":" in line)
        headers = {name.strip().lower(): value.strip() for name, value in headers.items()}
        key = headers.get(b"sec-websocket-key")
        if key is None:
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            self.transport.close()
            return False
        self.transport.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept_key(key) + b"\r\n\r\n")
        self.open = True
        parts = request.split(b" ")
        self.on_open(parts[1].decode("latin-1") if len(parts) > 1 else "/")
        return True

    def _frames(self, stamp: float) -> int:
        """Handle every whole frame in the buffer; return the bytes they took."""
        buffer, offset, size = self.buffer, 0, len(self.buffer)
        while size - offset >= 2:
            first, second = buffer[offset], buffer[offset + 1]
            length, start = second & 0x7F, offset + 2
            if length == 126:
                if size - start < 2:
                    break
                length, start = struct.unpack_from("!H", buffer, start)[0], start + 2
            elif length == 127:
                if size - start < 8:
                    break
                length, start = struct.unpack_from("!Q", buffer, start)[0], start + 8
            mask_start, start = start, start + (4 if second & 0x80 else 0)
            end = start + length
            if end > size:
                break
            opcode = first & 0x0F
            if opcode in (BINARY, 0):
                self.on_binary(length, stamp)
            else:
                payload = bytes(buffer[start:end])
                if second & 0x80:
                    payload = unmask(payload, bytes(buffer[mask_start:start]))
                self._control_or_text(opcode, payload, stamp)
            offset = end
        return offset

    def _control_or_text(self, opcode: int, payload: bytes, stamp: float):
        if opcode == TEXT:
            self.on_text(payload.decode("utf-8", "replace"), stamp)
        elif opcode == PING:
            self.transport.write(server_frame(PONG, payload))
        elif opcode == CLOSE and not self.closed:
            self.transport.write(server_frame(CLOSE, payload[:2]))
            self.closed = True
            self.on_closed(stamp)
            self.transport.close()
