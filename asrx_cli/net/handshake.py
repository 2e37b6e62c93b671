"""Opening a WebSocket to an ASRX server: one deadline for all of it, no redirects.

Name resolution, the TCP connection (through a CONNECT tunnel when the
environment names an HTTP proxy), TLS and the HTTP upgrade together get
`--connect-timeout`: each step waits for what is left of it, and a watchdog
shuts the socket down at the deadline, so a server that trickles its answer a
byte at a time cannot stretch it, nor one that answers without end fill memory
(MAX_ANSWER_BYTES). A redirect is refused: the API key goes to the URL the user
gave and nowhere else.
"""

import logging
import queue
import socket
import ssl
import threading
import time
from typing import Optional
from urllib.parse import urlsplit

import websocket

from asrx_cli.errors import AsrxError, AuthError, ConnectionFailed, ServerBusy, UsageError
from asrx_cli.net.proxy import Proxy, open_tunnel, printable, proxy_for
from asrx_cli.net.retry_after import retry_after
from asrx_cli.wire import API_KEY_HEADER

log = logging.getLogger("asrx")

MAX_SHOWN_LOCATION = 200  # characters of a redirect's target quoted in the error
# The server's HTTP answer (headers, and the body of a refusal) is read into memory:
# real ones are a few KiB.
MAX_ANSWER_BYTES = 64 << 10
# The server is full or limits the rate for now: tried again (asrx_cli/stream/reconnect.py).
BUSY_STATUSES = (429, 503)


class Target:
    """Where a ws:// or wss:// URL points."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise UsageError(f"invalid URL {url!r}: expected ws://HOST/PATH or wss://HOST/PATH")
        try:
            port = parts.port
        except ValueError as exc:  # "Port out of range 0-65535", "Port could not be cast..."
            raise UsageError(f"invalid URL {url!r}: {str(exc)[0].lower()}{str(exc)[1:]}") from None
        self.url = url
        self.host = parts.hostname
        self.secure = parts.scheme == "wss"
        self.port = port or (443 if self.secure else 80)
        self.where = f"{self.host}:{self.port}"


class AnswerTooLong(Exception):
    pass


class CappedSocket:
    """A socket for the handshake only: reading more than MAX_ANSWER_BYTES from it fails."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.received = 0

    def recv(self, size: int) -> bytes:
        data = self.sock.recv(size)
        self.received += len(data)
        if self.received > MAX_ANSWER_BYTES:
            raise AnswerTooLong()
        return data

    def __getattr__(self, name):  # everything else is the socket's own
        return getattr(self.sock, name)


class Watchdog:
    """Shuts the watched socket down at a deadline, which wakes whatever waits on it."""

    def __init__(self, seconds: float):
        self.lock = threading.Lock()
        self.sock: Optional[socket.socket] = None
        self.fired = False
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True

    def __enter__(self) -> "Watchdog":
        self.timer.start()
        return self

    def __exit__(self, *exc_info):
        self.timer.cancel()
        self.timer.join()

    def watch(self, sock: socket.socket):
        with self.lock:
            self.sock = sock
            if self.fired:
                shut_down(sock)

    def _expire(self):
        with self.lock:
            self.fired = True
            if self.sock is not None:
                shut_down(self.sock)


def shut_down(sock: socket.socket):
    """Shut the TCP socket down (under TLS too) so that blocked sends and receives return."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # not SSLSocket's: no TLS state touched
    except OSError:
        pass


def open_websocket(ws: websocket.WebSocket, target: Target, api_key: str, ca_file: Optional[str],
                   timeout: float):
    """Connect `ws` to `target` within `timeout` seconds, or raise an AsrxError saying why."""
    deadline = time.monotonic() + timeout
    sock = None
    try:
        with Watchdog(timeout) as watchdog:
            proxy = proxy_for(target.host, target.secure)
            if proxy is None:
                sock = _tcp_connection(target.host, target.port, deadline)
                watchdog.watch(sock)
            else:
                log.info("through the proxy %s", proxy.where)
                sock = _proxy_connection(proxy, deadline)
                watchdog.watch(sock)
                open_tunnel(sock, proxy, target.host, target.port)
            if target.secure:
                sock = _tls_context(ca_file).wrap_socket(sock, server_hostname=target.host)
                watchdog.watch(sock)
            # redirect_limit=0: the library reports a 3xx instead of taking the key there.
            ws.connect(target.url, socket=CappedSocket(sock), header={API_KEY_HEADER: api_key},
                       redirect_limit=0)
            # versions that do not raise on a redirect left unfollowed
            if _redirect_of(ws) is not None:
                raise websocket.WebSocketException("redirect")
            ws.sock = sock  # the handshake is over: frames are read from the socket itself
        if watchdog.fired:
            raise socket.timeout()
    except Exception as error:  # every library and OS failure, turned into words
        late = time.monotonic() >= deadline
        ws.shutdown()
        if sock is not None:
            sock.close()
        raise _connect_error(socket.timeout() if late else error, ws, target, timeout) from None


def _proxy_connection(proxy: Proxy, deadline: float) -> socket.socket:
    try:
        return _tcp_connection(proxy.host, proxy.port, deadline)
    except socket.timeout:
        raise
    except OSError as exc:
        raise ConnectionFailed(f"cannot connect to the proxy {proxy.where}: "
                               f"{reason(exc)}") from None


def _tcp_connection(host: str, port: int, deadline: float) -> socket.socket:
    addresses = _resolve(host, port, deadline)
    error: Optional[OSError] = None
    for family, kind, proto, _, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
            if isinstance(exc, socket.timeout):
                break
    raise error or OSError(f"no address for {host}")


def _resolve(host: str, port: int, deadline: float) -> list:
    """getaddrinfo in a thread of its own: the resolver has no timeout of its own to give."""
    answer: "queue.Queue" = queue.Queue(1)

    def resolve():
        try:
            answer.put(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except Exception as exc:  # handed to the waiting thread
            answer.put(exc)

    threading.Thread(target=resolve, name="asrx-resolver", daemon=True).start()
    try:
        result = answer.get(timeout=max(deadline - time.monotonic(), 0))
    except queue.Empty:
        raise socket.timeout() from None
    if isinstance(result, Exception):
        raise result
    return result


def _tls_context(ca_file: Optional[str]) -> ssl.SSLContext:
    context = ssl.create_default_context()  # certificates and host names always verified
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def _connect_error(exc: Exception, ws: websocket.WebSocket, target: Target,
                   timeout: float) -> Exception:
    host, where = target.host, target.where
    if isinstance(exc, AsrxError):  # said in words already (the proxy)
        return exc
    redirect = _redirect_of(ws)
    if redirect is not None:
        return ConnectionFailed(f"the server redirected the handshake ({redirect}); not followed: "
                                "the API key goes only to --url")
    if isinstance(exc, AnswerTooLong):
        return ConnectionFailed(f"the handshake answer from {where} is longer than "
                                f"{MAX_ANSWER_BYTES >> 10} KiB: not a WebSocket server")
    if isinstance(exc, websocket.WebSocketBadStatusException):
        status = f"HTTP {exc.status_code} {_status_reason(exc)}".strip()
        if exc.status_code in (401, 403):
            return AuthError(f"the server refused the API key ({status}): check --api-key, "
                             "ASRX_API_KEY, the keychain (asrx login) "
                             "or api_key in the config file")
        if exc.status_code in BUSY_STATUSES:
            headers = exc.resp_headers or {}
            return ServerBusy(f"the server is busy ({status})", status,
                              retry_after(headers.get("retry-after")))
        return ConnectionFailed(f"the server refused the WebSocket handshake ({status})")
    if isinstance(exc, socket.gaierror):
        return ConnectionFailed(f"cannot resolve host {host!r}: {exc.strerror or exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ConnectionFailed(f"TLS certificate verification failed for {host}: "
                                f"{exc.verify_message or exc.reason}; "
                                "use --ca-file to trust a private CA")
    if isinstance(exc, ssl.SSLError):
        return ConnectionFailed(f"TLS failure with {where}: {exc.reason or exc}")
    if isinstance(exc, (socket.timeout, websocket.WebSocketTimeoutException)):
        return ConnectionFailed(f"timed out after {timeout:g} s connecting to {where}")
    if isinstance(exc, ConnectionRefusedError):
        return ConnectionFailed(f"cannot connect to {where}: connection refused")
    return ConnectionFailed(f"cannot connect to {where}: {reason(exc)}")


def _redirect_of(ws: websocket.WebSocket) -> Optional[str]:
    """"HTTP 302 to <Location>" when the handshake was answered with a redirect."""
    response = getattr(ws, "handshake_response", None)
    if response is None or not 300 <= response.status < 400:
        return None
    location = (response.headers or {}).get("location") or "nowhere"
    shown = printable(location, MAX_SHOWN_LOCATION)
    if len(location) > MAX_SHOWN_LOCATION:
        shown += "..."
    return f"HTTP {response.status} to {shown}"


def _status_reason(exc) -> str:
    # The library's message is "Handshake status 401 Unauthorized -+-+- headers -+-+- body".
    first = str(exc).split(" -+-+- ")[0]
    words = first.split(" ", 3)
    return words[3] if len(words) == 4 else ""


def reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
