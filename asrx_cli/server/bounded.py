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
"""

import asyncio
from typing import Optional

from websockets.asyncio.server import ServerConnection

# Far more than the realtime messages a reading client can fall behind by.
MAX_UNSENT_BYTES = 256 * 1024


class BoundedConnection(ServerConnection):
    def __init__(self, *args, stall_timeout: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.stall_timeout = stall_timeout
        self.dropped_because: Optional[str] = None
        self._stall_timer: Optional[asyncio.TimerHandle] = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # may queue pongs
        if self.transport.get_write_buffer_size() > MAX_UNSENT_BYTES:
            self.drop(f"client not reading: over {MAX_UNSENT_BYTES} bytes unsent")

    def pause_writing(self) -> None:
        super().pause_writing()
        why = f"client not reading: output stalled for {self.stall_timeout:g} s"
        self._stall_timer = self.loop.call_later(self.stall_timeout, self.drop, why)

    def resume_writing(self) -> None:
        self._cancel_stall_timer()
        super().resume_writing()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self._cancel_stall_timer()
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
