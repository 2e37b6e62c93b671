"""What `asrx serve` is told: where to listen, whom to let in, its limits."""

import os
from dataclasses import dataclass, field

from asrx_cli.config import is_loopback
from asrx_cli.errors import UsageError
from asrx_cli.server.engines import DEFAULT_ENGINE

PATH = "/asrx"
HEALTH_PATH = "/healthz"


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Limits:
    max_frame_bytes: int = 128 * 1024  # 4 s of audio; the documented client sends 1 KiB
    max_sessions: int = 16
    idle_timeout: float = 30.0  # seconds without a message from the client
    max_session_time: float = 3600.0
    close_wait: float = 3.0  # after the end marker, for the client to close first
    engine_timeout: float = 10.0  # for an engine process with work to finish any of it
    decoder_idle_time: float = 60.0  # before an engine frees a decoder no session uses
    keepalive: float = 20.0  # between pings, and for the pong (websockets' default)


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    api_keys: frozenset = frozenset()
    engine: str = DEFAULT_ENGINE
    workers: int = field(default_factory=default_workers)
    limits: Limits = Limits()
    quiet: bool = False
    verbose: bool = False

    def check(self) -> None:
        if not self.api_keys and not is_loopback(self.host):
            raise UsageError(
                f"refusing to listen on {self.host or 'all interfaces'} without API keys, "
                "since anyone could use it: give --api-key or ASRX_SERVER_KEYS, "
                "or listen on 127.0.0.1"
            )


def url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"ws://{shown}:{port}{PATH}"
