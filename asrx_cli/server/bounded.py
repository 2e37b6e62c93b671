"""A WebSocket connection whose unsent output is bounded in bytes and in time.

websockets answers each ping with a pong that waits in the transport's buffer
until the client reads it, without limit, and its `send` and `close` wait for
the client to read (drain) without a timeout. A client that floods pings and
never reads would grow the server's memory without bound, and hold its
session, its slot and the server's shutdown for ever. This connection drops
such a client (the TCP connection is aborted) when its unsent output passes
MAX_UNSENT_BYTES, or stays over websockets' write limit for `stall_timeout`
seconds. The hooks are asyncio's own protocol callbacks, which a websockets
connection implements.

It also reads a client at most once every `read_interval` seconds: after
each read the transport is left unread for that long, and what the client
sent meanwhile waits in the kernel's socket buffer. A client of the
documented kind sends a frame every 32 ms; read as they came, its frames
woke the server 31 times a second, each wake costing more CPU than the
frame's handling. Pings, pongs and the end of a stream wait a fifth of a
second at most (conversation.py, READ_INTERVAL).
"""

import asyncio
from typing import Optional

from websockets.asyncio.server import ServerConnection

# Far more than the realtime messages a reading client can fall behind by.
MAX_UNSENT_BYTES = 256 * 1024


class BoundedConnection(ServerConnection):
    def __init__(self, *args, stall_timeout: float, read_interval: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.stall_timeout = stall_timeout
        self.read_interval = read_interval
        self.dropped_because: Optional[str] = None
        self._stall_timer: Optional[asyncio.TimerHandle] = None
        self._read_timer: Optional[asyncio.TimerHandle] = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # may queue pongs
        if self.transport.get_write_buffer_size() > MAX_UNSENT_BYTES:
            self.drop(f"client not reading: over {MAX_UNSENT_BYTES} bytes unsent")
        elif self.read_interval and self.transport.is_reading():
            # (not reading: websockets paused it, its queue of messages full, and resumes it)
            self.transport.pause_reading()
            self._cancel_read_timer()
            self._read_timer = self.loop.call_later(self.read_interval, self._read_again)

    def _read_again(self) -> None:
        self._read_timer = None
        if not self.transport.is_closing() and not self.recv_messages.paused:
            self.transport.resume_reading()

    def pause_writing(self) -> None:
        super().pause_writing()
        why = f"client not reading: output stalled for {self.stall_timeout:g} s"
        self._stall_timer = self.loop.call_later(self.stall_timeout, self.drop, why)

    def resume_writing(self) -> None:
        self._cancel_stall_timer()
        super().resume_writing()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self._cancel_stall_timer()
        self._cancel_read_timer()
        super().connection_lost(exc)

    def drop(self, why: str) -> None:
        """Abort the TCP connection: no closing handshake with a client that does not read."""
        if self.dropped_because is None:
            self.dropped_because = why
        self.transport.abort()

    def _cancel_stall_timer(self) -> None:
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    def _cancel_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None
