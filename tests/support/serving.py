"""`asrx serve` for tests: a server in a thread, and what a test asks a running one."""

import contextlib
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websocket

from asrx_cli.server.app import ServerThread
from asrx_cli.server.settings import Limits, ServerConfig
from tests.support.speech import connect

KEYS = frozenset({"key-one-4d1f", "key-two-9b7e"})
KEY = "key-one-4d1f"


def start_server(limits=None, **options):
    """`asrx serve` in a thread of this process, on a free port; `limits`: Limits' fields."""
    return ServerThread(ServerConfig(port=0, limits=Limits(**(limits or {})), **options)).start()


@contextlib.contextmanager
def serving(limits=None, **options):
    """`start_server`, stopped on leaving."""
    running = start_server(limits, **options)
    try:
        yield running
    finally:
        running.stop()


def server_fixture(name: str, limits=None, **options):
    """The one way a test module gets `asrx serve` for all its tests: a module-scoped fixture."""

    @pytest.fixture(scope="module", name=name)
    def fixture():
        with serving(limits, **options) as running:
            yield running

    return fixture


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def health_url(server):
    return f"http://127.0.0.1:{server.port}/healthz"


def wait_until_idle(server, timeout=10.0):
    """Sessions end on the server a moment after their client saw the close."""
    deadline = time.monotonic() + timeout
    while json.loads(http_get(health_url(server))[2])["sessions"]:
        assert time.monotonic() < deadline, "sessions did not end"
        time.sleep(0.05)


def handshake_status(url, api_key):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(url, api_key)
    return refused.value.status_code


def engine_pids(server_pid):
    """The engine processes of a running `asrx serve` (its children that run the engine)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == server_pid and b"spawn_main" in command:
            pids.append(int(entry.name))
    return pids


def resident_kib(pid):
    """The resident memory of a running process, in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
