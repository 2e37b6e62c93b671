"""A TCP proxy between asrx and a real server, for faults made by real means.

It listens on 127.0.0.1, port 0, and forwards each connection to the
server. For the n-th connection a `Fault` may be planned: once that many
bytes have gone upstream (the handshake and the audio frames as they are on
the wire), it cuts the connection: a close frame with a code in the server's
name, a plain TCP close (no close frame: 1006 to the client), a reset, or a
stall (nothing more forwarded either way, the sockets left open). It can also
refuse new connections (reset at once) for a while or for good.
"""

import dataclasses
import socket
import struct
import threading
import time
from typing import List, Optional

from asrx_cli.wire import BYTES_PER_SECOND, FRAME_BYTES
from tests.support.rawserver import accept_each

# A client's binary frame of FRAME_BYTES on the wire: 2 header bytes, 2 of length, 4 of mask.
WIRE_FRAME = FRAME_BYTES + 8
HANDSHAKE_BYTES = 400  # about what asrx's upgrade request takes


def upstream_bytes(audio_seconds: float) -> int:
    """Bytes upstream once `audio_seconds` of audio has gone out in FRAME_BYTES frames."""
    return HANDSHAKE_BYTES + int(audio_seconds * BYTES_PER_SECOND / FRAME_BYTES * WIRE_FRAME)


@dataclasses.dataclass(frozen=True)
class Fault:
    after_seconds: float  # of audio on this connection
    action: str  # "code", "close", "reset" or "stall"
    code: int = 1011
    refuse_for: float = 0.0  # then new connections are reset for this long


def close_frame(code: int, reason: bytes = b"proxy cut") -> bytes:
    payload = struct.pack("!H", code) + reason
    return bytes([0x88, len(payload)]) + payload


class Proxy:
    def __init__(self, upstream_port: int, faults: Optional[List[Optional[Fault]]] = None,
                 connections: Optional[int] = None):
        """`faults[n]` for the n-th connection; after `connections` connections, every new one is
        reset."""
        self.upstream_port = upstream_port
        self.faults = list(faults or [])
        self.limit = connections
        self.connections = 0  # accepted and forwarded
        self.refused = 0
        self._refuse_until = 0.0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: List[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def url(self, path: str = "/asrx") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def refuse(self, seconds: float = float("inf")):
        """Reset every new connection for `seconds` from now."""
        self._refuse_until = time.monotonic() + seconds

    def __enter__(self) -> "Proxy":
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stopping.set()
        _close(self._listener)  # the shutdown wakes the thread waiting in accept()
        for sock in list(self._sockets):
            _close(sock)
        self._thread.join(5)

    def _accept(self):
        accept_each(self._listener, self._stopping, self._link)

    def _link(self, client: socket.socket):
        if (time.monotonic() < self._refuse_until
                or (self.limit is not None and self.connections >= self.limit)):
            self.refused += 1
            _reset(client)
            return
        fault = self.faults[self.connections] if self.connections < len(self.faults) else None
        self.connections += 1
        try:
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            _reset(client)
            return
        self._sockets += [client, server]
        Link(client, server, fault, self.refuse).start()


class Link:
    """One proxied connection: a thread each way; the upstream one counts bytes and cuts."""

    def __init__(self, client: socket.socket, server: socket.socket, fault: Optional[Fault],
                 refuse):
        self.client, self.server, self.fault, self.refuse = client, server, fault, refuse
        self.limit = upstream_bytes(fault.after_seconds) if fault else None
        self.upstream = 0
        self.cut = threading.Event()
        self.to_client = threading.Lock()

    def start(self):
        threading.Thread(target=self._up, daemon=True).start()
        threading.Thread(target=self._down, daemon=True).start()

    def _up(self):
        while not self.cut.is_set():
            data = _recv(self.client)
            if not data:
                break
            if self.limit is not None and self.upstream + len(data) >= self.limit:
                data = data[:self.limit - self.upstream]
                _sendall(self.server, data)
                self._cut()
                return
            self.upstream += len(data)
            _sendall(self.server, data)
        _close(self.server)

    def _down(self):
        while not self.cut.is_set():
            data = _recv(self.server)
            if not data:
                break
            with self.to_client:
                if self.cut.is_set():
                    return
                _sendall(self.client, data)
        if not self.cut.is_set():
            _close(self.client)

    def _cut(self):
        with self.to_client:  # never in the middle of a frame on its way to the client
            self.cut.set()
            if self.fault.refuse_for:
                self.refuse(self.fault.refuse_for)
            action = self.fault.action
            if action == "stall":
                return  # nothing more either way; the sockets stay open until the proxy stops
            if action == "code":
                _sendall(self.client, close_frame(self.fault.code))
            if action == "reset":
                _reset(self.client)
                _reset(self.server)
            else:
                _close(self.client)
                _close(self.server)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _sendall(sock: socket.socket, data: bytes):
    try:
        sock.sendall(data)
    except OSError:
        pass


def _close(sock: socket.socket):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _reset(sock: socket.socket):
    """Close with a TCP reset instead of a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # wakes a thread reading it, without a FIN: close() then resets
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    sock.close()
