"""HTTP proxies named by the environment (https_proxy, http_proxy, no_proxy): a CONNECT tunnel.

Loopback hosts never go through a proxy. The proxy's credentials, if its URL
has any, are sent to the proxy alone and never shown.
"""

import base64
import os
import socket
from typing import Optional
from urllib.parse import SplitResult, unquote, urlsplit

from asrx_cli.config import is_loopback
from asrx_cli.errors import ConnectionFailed, UsageError

MAX_PROXY_ANSWER_BYTES = 16 << 10  # a CONNECT answer is a status line and a few headers


class Proxy:
    def __init__(self, parts: SplitResult):
        self.parts = parts
        try:
            self.port = parts.port or 80
        except ValueError:
            raise UsageError("the proxy URL in the environment has an invalid port "
                             f"({parts.hostname})") from None
        self.host = parts.hostname or ""
        self.where = f"{self.host}:{self.port}"


def proxy_for(host: str, secure: bool) -> Optional[Proxy]:
    """The proxy the environment names for `host`, or None to connect directly."""
    if is_loopback(host) or not any(name.lower().endswith("_proxy") for name in os.environ):
        return None
    import urllib.request  # only with a proxy in sight: it is slow to import

    url = urllib.request.getproxies().get("https" if secure else "http")
    if not url or urllib.request.proxy_bypass(host):
        return None
    return Proxy(urlsplit(url if "://" in url else f"http://{url}"))


def open_tunnel(sock: socket.socket, proxy: Proxy, host: str, port: int):
    """Ask the proxy on `sock` for a tunnel to host:port; raise ConnectionFailed if it says no."""
    target = f"{host}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if proxy.parts.username is not None:
        credentials = f"{unquote(proxy.parts.username)}:{unquote(proxy.parts.password or '')}"
        lines.append("Proxy-Authorization: Basic "
                     + base64.b64encode(credentials.encode()).decode())
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    answer = b""
    # The server says nothing before the client: nothing is read past the answer.
    while b"\r\n\r\n" not in answer:
        data = sock.recv(4096)
        if not data:
            raise ConnectionFailed(f"the proxy {proxy.where} closed the connection "
                                   f"instead of a tunnel to {target}")
        answer += data
        if len(answer) > MAX_PROXY_ANSWER_BYTES:
            raise ConnectionFailed(f"the proxy {proxy.where} gave no answer to CONNECT in "
                                   f"{MAX_PROXY_ANSWER_BYTES >> 10} KiB")
    status = answer.split(b"\r\n", 1)[0].decode("latin-1")
    words = status.split(" ", 2)
    if len(words) < 2 or words[1] != "200":
        raise ConnectionFailed(f"the proxy {proxy.where} refused a tunnel to {target} "
                               f"({printable(status, 100)})")


def printable(text: str, most: int) -> str:
    """At most `most` characters of what a server said, fit for one line of a terminal."""
    return "".join(ch if ch.isprintable() else "?" for ch in text[:most])
