"""`asrx serve` against hostile clients: crafted handshakes and frames.

Real servers on port 0 and real sockets; each test reproduces an attack and
checks that it costs the attacker its own session and nothing more.
"""

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import websocket

from asrx_cli.server.app import ServerThread
from asrx_cli.server.config import Limits, ServerConfig
from asrx_cli.server.process import ServeProcess
from asrx_cli.wire import API_KEY_HEADER, BYTES_PER_SECOND, END_OF_STREAM
from tests.speech import (
    GOFORWARD,
    GOFORWARD_TEXT,
    Exchange,
    connect,
    needs_testdata,
    read_pcm,
    read_until_closed,
    send_audio,
    server_has_spoken,
    silence,
    transcribe,
)

pytestmark = needs_testdata

KEY = "hostile-key-41c9"


@pytest.fixture(scope="module")
def server():
    running = ServerThread(ServerConfig(port=0, api_keys=frozenset({KEY}), workers=1,
                                        limits=Limits(close_wait=1.0))).start()
    yield running
    running.stop()


def test_two_apikey_headers_are_refused_with_401_not_500(server):
    header = [f"{API_KEY_HEADER}: {KEY}", f"{API_KEY_HEADER}: {KEY}"]
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(server.url, header=header, timeout=10)
    assert refused.value.status_code == 401
    assert b"more than one apikey header" in refused.value.resp_body


@pytest.mark.parametrize("text", [
    "[" * 50_000 + "]" * 50_000,
    '{"data": ' * 10_000 + "{}" + "}" * 10_000,
])
def test_deeply_nested_json_closes_with_1003_and_a_reason(server, text):
    ws = connect(server.url, KEY)
    ws.send(text)
    exchange = read_until_closed(ws, Exchange())
    assert (exchange.close_code, exchange.close_reason) == (1003, "text frame is JSON nested too deeply")
    ws = connect(server.url, KEY)  # and the server serves on
    ws.send(json.dumps(END_OF_STREAM))
    assert read_until_closed(ws, Exchange()).end_marker


# --- A stuck engine: a real worker process, stopped with SIGSTOP ------------------


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


def stream_until_closed(ws, seconds=20.0):
    """Send silence until the server closes; what it said, and how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds and not server_has_spoken(ws, 0.1):
        ws.send_binary(silence(0.1))
    return read_until_closed(ws, Exchange()), time.monotonic() - started


def test_a_stuck_engine_fails_its_sessions_with_1011_in_time_and_is_replaced():
    server = ServeProcess("--workers", "1", "--engine-timeout", "1")
    try:
        [stuck] = engine_pids(server.pid)
        ws = connect(server.url)
        send_audio(ws, read_pcm(GOFORWARD)[:BYTES_PER_SECOND])
        os.kill(stuck, signal.SIGSTOP)
        exchange, waited = stream_until_closed(ws)
        assert (exchange.close_code, exchange.close_reason) == (1011, "speech engine failed")
        assert waited < 5
        assert transcribe(server.url, read_pcm(GOFORWARD)).transcript == GOFORWARD_TEXT
        assert engine_pids(server.pid) not in ([], [stuck])
    finally:
        status, stderr = server.stop()
    assert status == 0, stderr
    assert "did not answer within 1 s" in stderr


def test_sigterm_stops_the_server_in_time_while_its_engine_is_stuck():
    server = ServeProcess("--workers", "1")  # the engine timeout (10 s) is no help here
    try:
        [stuck] = engine_pids(server.pid)
        ws = connect(server.url)
        os.kill(stuck, signal.SIGSTOP)
        send_audio(ws, read_pcm(GOFORWARD)[:BYTES_PER_SECOND])
        exchange = Exchange()
        client = threading.Thread(target=read_until_closed, args=(ws, exchange))
        client.start()
        started = time.monotonic()
        status, stderr = server.stop(signal.SIGTERM, timeout=30)
        stopped_in = time.monotonic() - started
        client.join(10)
    finally:
        server.kill()
    assert status == 0, stderr
    assert stopped_in < 6, stderr
    assert exchange.close_code == 1001
    assert "Traceback" not in stderr
