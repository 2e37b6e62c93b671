"""A WebSocket connection to an ASRX server, with failures in the user's words.

websocket-client sends from the pacer thread while the main thread receives;
the library keeps separate locks for the two directions. The socket stays in
blocking mode (a send may wait on a slow server as long as it needs) and
receiving polls with select, so the main thread can keep time.
"""

import json
import logging
import select
import socket
import ssl
import time
from typing import Optional, Union
from urllib.parse import urlsplit

import websocket

from asrx_cli.errors import AuthError, ConnectionFailed, UsageError
from asrx_cli.wire import END_OF_STREAM

log = logging.getLogger("asrx")

CLOSE_TIMEOUT = 1.0


class Closed:
    """The server closed the connection."""

    def __init__(self, code: Optional[int] = None, reason: str = ""):
        self.code, self.reason = code, reason

    def __str__(self):
        if self.code is None:
            return "the connection was lost"
        return f"close code {self.code}" + (f", {self.reason}" if self.reason else "")


def check_url(url: str) -> str:
    """The host of a usable ws:// or wss:// URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise UsageError(f"invalid URL {url!r}: expected ws://HOST/PATH or wss://HOST/PATH")
    return parts.hostname


class Connection:
    def __init__(self, ws: websocket.WebSocket, url: str):
        self.ws = ws
        self.url = url

    @classmethod
    def open(cls, url: str, api_key: str, ca_file: Optional[str], timeout: float) -> "Connection":
        started = time.monotonic()
        log.info("connecting to %s (apikey: ****)", url)
        try:
            ws = websocket.create_connection(
                url, timeout=timeout, header={"apikey": api_key}, sslopt=_ssl_options(ca_file),
                enable_multithread=True, skip_utf8_validation=False,
            )
        except Exception as exc:  # every library and OS failure, turned into words
            raise _connect_error(exc, url, timeout) from None
        ws.settimeout(None)
        log.info("connected: HTTP %s in %.0f ms", ws.getstatus(), (time.monotonic() - started) * 1000)
        return cls(ws, url)

    def send_audio(self, chunk: bytes):
        self._send(chunk, websocket.ABNF.OPCODE_BINARY)

    def send_json(self, message: dict):
        text = json.dumps(message)
        log.info("> %s", text)
        self._send(text, websocket.ABNF.OPCODE_TEXT)

    def send_end_of_stream(self):
        self.send_json(END_OF_STREAM)

    def _send(self, payload, opcode):
        try:
            self.ws.send(payload, opcode)
        except (websocket.WebSocketException, OSError) as exc:
            raise ConnectionFailed(f"sending to the server failed: {_reason(exc)}") from None

    def recv(self, timeout: float) -> Union[None, str, bytes, Closed]:
        """A data frame, None when nothing came within `timeout`, or Closed."""
        if not self._readable(timeout):
            return None
        try:
            opcode, data = self.ws.recv_data(control_frame=False)
        except websocket.WebSocketConnectionClosedException:
            return Closed()
        except (websocket.WebSocketException, OSError) as exc:
            log.info("receive failed: %s", _reason(exc))
            return Closed()
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return _close_frame(data)
        if opcode == websocket.ABNF.OPCODE_TEXT:
            return data.decode("utf-8", errors="replace")
        return data

    def _readable(self, timeout: float) -> bool:
        sock = self.ws.sock
        if sock is None:
            return True  # closed: recv_data reports it at once
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        try:
            ready, _, _ = select.select([sock], [], [], max(timeout, 0))
        except (OSError, ValueError):
            return True
        return bool(ready)

    def close(self):
        try:
            self.ws.close(timeout=CLOSE_TIMEOUT)
        except Exception:  # the peer may be gone already; nothing left to save
            pass
        # close() skips the socket when the server closed first; release it always.
        self.ws.shutdown()

    def abort(self):
        self.ws.shutdown()


def _ssl_options(ca_file: Optional[str]) -> dict:
    options = {"cert_reqs": ssl.CERT_REQUIRED, "check_hostname": True}
    if ca_file:
        context = ssl.create_default_context()
        context.load_verify_locations(cafile=ca_file)
        options["context"] = context
    return options


def _close_frame(data: bytes) -> Closed:
    if len(data) >= 2:
        code = int.from_bytes(data[:2], "big")
        return Closed(code, data[2:].decode("utf-8", errors="replace"))
    return Closed(1005)


def _connect_error(exc: Exception, url: str, timeout: float) -> Exception:
    parts = urlsplit(url)
    host = parts.hostname
    where = f"{host}:{parts.port or (443 if parts.scheme == 'wss' else 80)}"
    if isinstance(exc, websocket.WebSocketBadStatusException):
        status = f"HTTP {exc.status_code} {_status_reason(exc)}".strip()
        if exc.status_code in (401, 403):
            return AuthError(f"the server refused the API key ({status}): check --api-key, "
                             "ASRX_API_KEY or api_key in the config file")
        return ConnectionFailed(f"the server refused the WebSocket handshake ({status})")
    if isinstance(exc, websocket.WebSocketAddressException) and exc.args:
        exc = exc.args[0]  # the resolver's error, wrapped
    if isinstance(exc, socket.gaierror):
        return ConnectionFailed(f"cannot resolve host {host!r}: {exc.strerror or exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ConnectionFailed(f"TLS certificate verification failed for {host}: "
                                f"{exc.verify_message or exc.reason}; use --ca-file to trust a private CA")
    if isinstance(exc, ssl.SSLError):
        return ConnectionFailed(f"TLS failure with {where}: {exc.reason or exc}")
    if isinstance(exc, (socket.timeout, websocket.WebSocketTimeoutException)):
        return ConnectionFailed(f"timed out after {timeout:g} s connecting to {where}")
    if isinstance(exc, ConnectionRefusedError):
        return ConnectionFailed(f"cannot connect to {where}: connection refused")
    if isinstance(exc, ValueError):
        return UsageError(f"invalid URL {url!r}: {exc}")
    return ConnectionFailed(f"cannot connect to {where}: {_reason(exc)}")


def _status_reason(exc) -> str:
    # The library's message is "Handshake status 401 Unauthorized -+-+- headers -+-+- body".
    first = str(exc).split(" -+-+- ")[0]
    words = first.split(" ", 3)
    return words[3] if len(words) == 4 else ""


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
