"""A WebSocket connection to an ASRX server, with failures in the user's words.

websocket-client sends from the sender thread while the main thread receives;
the library keeps separate locks for the two directions. No wait is without
bound: the handshake gets --connect-timeout as a whole (asrx_cli/net/handshake.py);
a send that the server takes no byte of for --send-timeout fails (the socket's
timeout); a receive returns at its deadline however the server trickles a frame
(reads stop there, and the frame is finished on the next call); closing gets
CLOSE_TIMEOUT. `abort()` shuts the socket down, which wakes every thread
blocked on it.
"""

import json
import logging
import os
import select
import socket
import ssl
import struct
import time
from typing import Iterable, Iterator, List, Optional, Union

import numpy as np
import websocket

from asrx_cli.errors import ConnectionFailed, ServerStalled
from asrx_cli.net.handshake import Target, open_websocket, reason, shut_down
from asrx_cli.wire import END_OF_STREAM

log = logging.getLogger("asrx")

CLOSE_TIMEOUT = 1.0
# A transcript message is a sentence of JSON; a server's message larger than this
# (one frame, or the fragments of one) ends the run instead of filling memory.
MAX_MESSAGE_BYTES = 4 << 20
READ_BYTES = 1 << 16  # what one read from the socket may take


class Closed:
    """The server closed the connection."""

    def __init__(self, code: Optional[int] = None, reason: str = ""):
        self.code, self.reason = code, reason

    def __str__(self):
        if self.code is None:
            return "the connection was lost" + (f" ({self.reason})" if self.reason else "")
        return f"close code {self.code}" + (f", {self.reason}" if self.reason else "")


def check_url(url: str) -> str:
    """The host of a usable ws:// or wss:// URL."""
    return Target(url).host


class ReadPause(websocket.WebSocketTimeoutException):
    """A receive reached its deadline; the frame being read is finished on the next call."""


class MessageTooLarge(websocket.WebSocketPayloadException):
    """A server's message over MAX_MESSAGE_BYTES."""


class DeadlineWebSocket(websocket.WebSocket):
    """websocket-client's WebSocket, whose reads give up at `read_deadline`.

    The library reads through `_recv`, and keeps a partly read frame across an
    exception there, so a read that stops at the deadline loses nothing. The
    size of the message being read is checked there too.
    """

    read_deadline: Optional[float] = None  # monotonic; None: reads wait as the socket does
    _unread = b""  # taken from the socket, not yet by the library

    def _recv(self, bufsize):
        # The library asks for a frame's header, its length and its payload in turn:
        # one read from the socket serves them all, instead of a wait and a read each.
        self._check_message_size()
        if self.read_deadline is not None and self.sock is not None:
            self._wait_readable(self.read_deadline - time.monotonic())
        if not self._unread:
            self._unread = super()._recv(READ_BYTES)
        data, self._unread = self._unread[:bufsize], self._unread[bufsize:]
        return data

    def send_close(self, *args, **kwargs):
        """Answering a close frame is a courtesy: a peer already gone must not hide its close
        code."""
        try:
            super().send_close(*args, **kwargs)
        except (websocket.WebSocketException, OSError):
            pass

    def _check_message_size(self):
        """Refuse, before reading it, a message longer than MAX_MESSAGE_BYTES."""
        pending = self.cont_frame.cont_data  # fragments of the message so far
        size = (self.frame_buffer.length or 0) + (len(pending[1]) if pending else 0)
        if size > MAX_MESSAGE_BYTES:
            raise MessageTooLarge("the server sent a message of more than "
                                  f"{MAX_MESSAGE_BYTES >> 20} MiB")

    def _wait_readable(self, timeout: float):
        if timeout <= 0:
            raise ReadPause("deadline")  # even with data waiting: a flood must not hold the caller
        if self._unread or (isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()):
            return
        if self.sock is None:
            return  # closed: the read itself reports it
        try:
            ready, _, _ = select.select([self.sock], [], [], timeout)
        except (OSError, ValueError):
            return  # closed under us: the read itself reports it
        if not ready:
            raise ReadPause("deadline")


def frame_header(opcode: int, size: int) -> bytes:
    """A final client frame's first bytes (RFC 6455, 5.2), up to its 4-byte mask."""
    if size < 126:
        return bytes((0x80 | opcode, 0x80 | size))
    if size < 1 << 16:
        return struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    return struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)


def masked_frame(opcode: int, payload: bytes, mask: bytes) -> bytes:
    """One final frame from a client: its payload masked with the 4-byte `mask`."""
    size = len(payload)
    key = (mask * (size // 4 + 1))[:size]
    masked = int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")
    return frame_header(opcode, size) + mask + masked.to_bytes(size, "big")


class AudioFrame(bytes):
    """A frame of audio that carries the masked WebSocket frame made for it ahead of time.

    The sender wakes with its caches cold: masking there costs about ten times
    what masking a whole batch in a row costs on the decoder thread. The masked form goes out
    once; a frame sent again is masked anew.
    """

    wire: bytes  # until taken

    @classmethod
    def framed(cls, chunk: bytes, wire: bytes) -> "AudioFrame":
        frame = cls(chunk)
        frame.wire = wire
        return frame

    def take_wire(self) -> Optional[bytes]:
        return self.__dict__.pop("wire", None)


def masked_ahead(batches: Iterable[List[bytes]]) -> Iterator[List[AudioFrame]]:
    """Each batch of audio frames as AudioFrames, masked with fresh keys."""
    for batch in batches:
        keys = os.urandom(4 * len(batch))
        size = len(batch[0])
        if size % 4 == 0 and all(len(chunk) == size for chunk in batch):
            wires = _masked_alike(batch, keys, size)
        else:  # the short last frame of an input
            wires = [masked_frame(websocket.ABNF.OPCODE_BINARY, chunk,
                                  keys[4 * index:4 * index + 4])
                     for index, chunk in enumerate(batch)]
        yield [AudioFrame.framed(chunk, wire) for chunk, wire in zip(batch, wires)]


def _masked_alike(batch: List[bytes], keys: bytes, size: int) -> List[bytes]:
    """Frames of one size, masked in one numpy XOR: a quarter of the CPU of one frame at a time."""
    payloads = np.frombuffer(b"".join(batch), np.uint32).reshape(len(batch), size // 4)
    masked = (payloads ^ np.frombuffer(keys, np.uint32)[:, None]).tobytes()
    header = frame_header(websocket.ABNF.OPCODE_BINARY, size)
    return [header + keys[4 * index:4 * index + 4] + masked[size * index:size * (index + 1)]
            for index in range(len(batch))]


class Connection:
    def __init__(self, ws: DeadlineWebSocket, url: str, send_timeout: float):
        self.ws = ws
        self.url = url
        self.send_timeout = send_timeout
        self.stalled: Optional[ServerStalled] = None  # set once a send has timed out

    @classmethod
    def open(cls, url: str, api_key: str, ca_file: Optional[str], timeout: float,
             send_timeout: float) -> "Connection":
        started = time.monotonic()
        log.info("connecting to %s (apikey: ****)", url)
        # Texts are decoded with errors="replace": the library's pure-Python UTF-8 check is not
        # needed.
        ws = DeadlineWebSocket(enable_multithread=True, skip_utf8_validation=True)
        open_websocket(ws, Target(url), api_key, ca_file, timeout)
        assert ws.sock is not None  # open_websocket returns connected or raises
        ws.sock.settimeout(send_timeout)  # a send waits this long for the server to take a byte
        log.info("connected: HTTP %s in %.0f ms", ws.getstatus(),
                 (time.monotonic() - started) * 1000)
        return cls(ws, url, send_timeout)

    def send_audio(self, chunk: bytes):
        # Framed ahead (masked_ahead) or here, and written in one sendall: the library's
        # general path (frame objects, a selector per send) costs more on every frame.
        wire = chunk.take_wire() if isinstance(chunk, AudioFrame) else None
        self._write(wire or masked_frame(websocket.ABNF.OPCODE_BINARY, chunk, os.urandom(4)))

    def send_json(self, message: dict):
        text = json.dumps(message)
        log.info("> %s", text)
        self._write(masked_frame(websocket.ABNF.OPCODE_TEXT, text.encode("utf-8"), os.urandom(4)))

    def send_end_of_stream(self):
        self.send_json(END_OF_STREAM)

    def _write(self, frame: bytes):
        if self.stalled is not None:  # a frame was left half sent: nothing more can follow it
            raise self.stalled
        sock = self.ws.sock
        try:
            if sock is None:
                raise BrokenPipeError(32, "the connection is closed")
            with self.ws.lock:  # the library's own sends (pongs, close) take it too
                sock.sendall(frame)
        except socket.timeout:
            raise self._stall() from None
        except OSError as exc:
            raise ConnectionFailed(f"sending to the server failed: {reason(exc)}") from None

    def _stall(self) -> ServerStalled:
        self.stalled = ServerStalled("the server took nothing from asrx for "
                                     f"{self.send_timeout:g} s "
                                     "(--send-timeout): it has stopped reading")
        return self.stalled

    def ping(self):
        """A WebSocket ping: an idle connection stays open through proxies and servers that count
        frames."""
        log.info("> ping")
        try:
            self.ws.ping()
        except (websocket.WebSocketException, OSError) as exc:
            log.info("ping failed: %s", reason(exc))  # a lost connection is the receiver's to tell

    def recv(self, timeout: float) -> Union[None, str, bytes, Closed]:
        """A data frame, None when none was complete within `timeout`, or Closed."""
        self.ws.read_deadline = time.monotonic() + timeout
        try:
            opcode, data = self.ws.recv_data(control_frame=False)
        except ReadPause:
            return None
        except MessageTooLarge as exc:
            raise ConnectionFailed(str(exc)) from None
        except websocket.WebSocketTimeoutException:  # the pong a ping is owed could not be sent
            raise self._stall() from None
        except websocket.WebSocketConnectionClosedException:
            return Closed()
        except (websocket.WebSocketException, OSError) as exc:
            log.info("receive failed: %s", reason(exc))
            return Closed(reason=reason(exc))
        finally:
            self.ws.read_deadline = None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return _close_frame(data)
        if opcode == websocket.ABNF.OPCODE_TEXT:
            return data.decode("utf-8", errors="replace")
        return data

    def close(self):
        """Close politely within CLOSE_TIMEOUT (a close frame, the server's answer), then
        release."""
        ws = self.ws
        if ws.sock is not None:
            ws.read_deadline = time.monotonic() + CLOSE_TIMEOUT
            try:
                ws.sock.settimeout(CLOSE_TIMEOUT)
                ws.close(timeout=CLOSE_TIMEOUT)
            except Exception:  # the peer may be gone already; nothing left to save
                pass
        # close() skips the socket when the server closed first; release it always.
        self.abort()

    def abort(self):
        """Wake every thread blocked on the socket, and release it."""
        sock = self.ws.sock
        if sock is not None:
            shut_down(sock)
        self.ws.shutdown()


def _close_frame(data: bytes) -> Closed:
    if len(data) >= 2:
        code = int.from_bytes(data[:2], "big")
        return Closed(code, data[2:].decode("utf-8", errors="replace"))
    return Closed(1005)

