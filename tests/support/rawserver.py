"""Hostile servers for the client's tests: raw TCP on 127.0.0.1, port 0, misbehaving on purpose.

A WebSocket library would not stop reading, trickle its handshake or leave a
frame half sent; these do, with plain sockets, each connection in a thread.
"""

import base64
import hashlib
import socket
import struct
import threading
from typing import Callable, Iterator, List, Optional, Tuple

WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_each(listener: socket.socket, stopping: threading.Event,
                on_connection: Callable[[socket.socket], None]):
    """Hands each connection to `on_connection` until stopped or the listener is closed."""
    while not stopping.is_set():
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        on_connection(conn)


class RawServer:
    """Runs `handle(server, conn)` for every connection until stopped."""

    def __init__(self, handle: Callable[["RawServer", socket.socket], None],
                 receive_buffer: Optional[int] = None):
        self.handle = handle
        self.listener = socket.socket()
        if receive_buffer:  # inherited by accepted sockets: a small window fills at once
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.connections: List[socket.socket] = []
        self.requests: List[bytes] = []  # handshake requests, as they came
        self.upgraded = threading.Event()  # a handshake was answered with 101
        self.stopping = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/asrx") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def _accept(self):
        accept_each(self.listener, self.stopping, self._start)

    def _start(self, conn: socket.socket):
        self.connections.append(conn)
        threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket):
        try:
            self.handle(self, conn)
        except OSError:
            pass  # the client went away: what these servers expect sooner or later

    def stop(self):
        self.stopping.set()
        self.listener.close()
        for conn in self.connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    # --- what the handlers are made of -------------------------------------------------

    def read_request(self, conn: socket.socket) -> bytes:
        request = b""
        while b"\r\n\r\n" not in request:
            data = conn.recv(4096)
            if not data:
                break
            request += data
        self.requests.append(request)
        return request

    def upgrade(self, conn: socket.socket):
        """Read the handshake request and accept it."""
        request = self.read_request(conn)
        conn.sendall(upgrade_answer(request))
        self.upgraded.set()

    def drain(self, conn: socket.socket):
        """Read and drop whatever the client sends, in a thread, so that its sends never block."""
        def run():
            try:
                while conn.recv(65536):
                    pass
            except OSError:
                pass
        threading.Thread(target=run, daemon=True).start()

    def idle(self):
        self.stopping.wait()


def upgrade_answer(request: bytes) -> bytes:
    key = b""
    for line in request.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            key = value.strip()
    accept = base64.b64encode(hashlib.sha1(key + WEBSOCKET_GUID).digest())
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")


def frame(opcode: int, payload: bytes, claimed: Optional[int] = None, final: bool = True) -> bytes:
    """A server's (unmasked) frame; `claimed` makes the header promise another length."""
    length = len(payload) if claimed is None else claimed
    first = (0x80 if final else 0) | opcode
    if length < 126:
        header = struct.pack("!BB", first, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", first, 126, length)
    else:
        header = struct.pack("!BBQ", first, 127, length)
    return header + payload


def client_frames(buffer: bytes) -> Iterator[Tuple[int, int, int, bytes]]:
    """Each whole frame at the start of `buffer`, as a client sends it: (opcode, where its payload
    starts, its length, its mask). The payload is left masked, so a frame costs a header parse."""
    offset, size = 0, len(buffer)
    while size - offset >= 2:
        second = buffer[offset + 1]
        length, start = second & 0x7F, offset + 2
        if length >= 126:
            width = 2 if length == 126 else 8
            if size - start < width:
                return
            length = int.from_bytes(buffer[start:start + width], "big")
            start += width
        masked = 4 if second & 0x80 else 0
        if start + masked + length > size:
            return
        yield buffer[offset] & 0x0F, start + masked, length, bytes(buffer[start:start + masked])
        offset = start + masked + length


CONTINUATION, TEXT, BINARY, PING = 0x0, 0x1, 0x2, 0x9  # frame opcodes


def trickle(conn: socket.socket, data: bytes, interval: float, stop: threading.Event):
    for byte in data:
        if stop.wait(interval):
            return
        conn.sendall(bytes([byte]))



def tunnel_to(port: int):
    """A handler: an HTTP proxy that answers any CONNECT with a tunnel to 127.0.0.1:`port`."""
    def handle(server: RawServer, conn: socket.socket):
        server.read_request(conn)
        upstream = socket.create_connection(("127.0.0.1", port))
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        threading.Thread(target=_pipe, args=(upstream, conn), daemon=True).start()
        _pipe(conn, upstream)
    return handle


def _pipe(source: socket.socket, sink: socket.socket):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
