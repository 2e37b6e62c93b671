"""`asrx serve` against hostile clients: crafted handshakes and frames.

Real servers on port 0 and real sockets; each test reproduces an attack and
checks that it costs the attacker its own session and nothing more.
"""

import base64
import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
import websocket

from asrx_cli.server.process import ServeProcess
from asrx_cli.wire import API_KEY_HEADER, BYTES_PER_SECOND, END_OF_STREAM
from tests.support.collector import no_garbage_collection
from tests.support.serving import engine_pids, resident_kib, server_fixture
from tests.support.speech import (
    GOFORWARD,
    GOFORWARD_TEXT,
    Exchange,
    connect,
    exchange_audio,
    needs_testdata,
    read_pcm,
    read_until_closed,
    send_audio,
    stream_until_closed,
)

pytestmark = needs_testdata

KEY = "hostile-key-41c9"


server = server_fixture("server", api_keys=frozenset({KEY}), workers=1, limits=dict(close_wait=1.0))


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
    with no_garbage_collection():  # the server parses it in this process
        ws.send(text)
        exchange = read_until_closed(ws, Exchange())
    assert (exchange.close_code, exchange.close_reason) == \
        (1003, "text frame is JSON nested too deeply")
    ws = connect(server.url, KEY)  # and the server serves on
    ws.send(json.dumps(END_OF_STREAM))
    assert read_until_closed(ws, Exchange()).end_marker


# --- A stuck engine: a real worker process, stopped with SIGSTOP ------------------


def test_a_stuck_engine_fails_its_sessions_with_1011_in_time_and_is_replaced():
    # Short, but long enough for a healthy engine on a busy machine.
    server = ServeProcess("--workers", "1", "--engine-timeout", "3")
    try:
        [stuck] = engine_pids(server.pid)
        # Ctrl-C in a terminal is the server's alone.
        assert os.getsid(stuck) != os.getsid(server.pid)
        ws = connect(server.url)
        send_audio(ws, read_pcm(GOFORWARD)[:BYTES_PER_SECOND])
        os.kill(stuck, signal.SIGSTOP)
        exchange, waited = stream_until_closed(ws)
        assert (exchange.close_code, exchange.close_reason) == (1011, "speech engine failed")
        assert waited < 8
        after = exchange_audio(server.url, read_pcm(GOFORWARD))
        assert (after.transcript, after.end_marker) == (GOFORWARD_TEXT, True)
        assert engine_pids(server.pid) not in ([], [stuck])
    finally:
        status, stderr = server.stop()
    assert status == 0, stderr
    assert "did not answer within 3 s" in stderr


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
    assert stopped_in < 8, stderr
    assert exchange.close_code == 1001
    assert "Traceback" not in stderr


# --- Clients that never read: pings flooded, pongs never taken ---------------------


def handshake_by_hand(port):
    """A WebSocket client's opening handshake on a raw socket, with a small receive window."""
    sock = socket.socket()
    # Before connecting: it sets the window.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(10)
    nonce = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((
        f"GET /asrx HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {nonce}\r\nSec-WebSocket-Version: 13\r\n{API_KEY_HEADER}: any\r\n\r\n"
    ).encode())
    response = b""
    while not response.endswith(b"\r\n\r\n"):
        response += sock.recv(1)  # a byte at a time: nothing after the answer is read
    assert response.startswith(b"HTTP/1.1 101 "), response
    return sock


def pings(count):
    """Masked ping frames (a mask of zeros leaves the payload as it is), 125 bytes each."""
    return (bytes([0x89, 0x80 | 125]) + bytes(4) + bytes(125)) * count


def flood_until_dropped(sock, seconds):
    """Send pings without ever reading; how long until the server dropped us (None: never)."""
    started = time.monotonic()
    burst = pings(2000)
    try:
        while time.monotonic() - started < seconds:
            sock.sendall(burst)
    except OSError:
        return time.monotonic() - started
    return None


def test_ping_floods_that_never_read_are_dropped_and_cost_no_memory():
    server = ServeProcess("--workers", "1", "--max-sessions", "4")
    try:
        before = resident_kib(server.pid)
        floods = [handshake_by_hand(server.port) for _ in range(4)]  # every slot
        dropped = [None] * len(floods)

        def flood(index):
            dropped[index] = flood_until_dropped(floods[index], seconds=10)

        threads = [threading.Thread(target=flood, args=(index,)) for index in range(len(floods))]
        for thread in threads:
            thread.start()
        peak = before
        while any(thread.is_alive() for thread in threads):
            peak = max(peak, resident_kib(server.pid))
            time.sleep(0.02)
        assert all(seconds is not None and seconds < 8 for seconds in dropped), dropped
        assert peak - before < 32 * 1024, f"the server grew by {(peak - before) // 1024} MiB"
        # Their slots are free again.
        assert exchange_audio(server.url, read_pcm(GOFORWARD)).transcript == GOFORWARD_TEXT
    finally:
        status, stderr = server.stop()
    assert status == 0, stderr
    assert stderr.count("closed 1006 (client not reading: over 262144 bytes unsent)") == 4, stderr


def server_send_queue(server_port, client_port):
    """Bytes the kernel holds for the server's socket to this client (/proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.split(":")[1], 16) for address in fields[1:3])
        if (local, remote) == (server_port, client_port):
            return int(fields[4].split(":")[0], 16)
    raise AssertionError("no such connection")


def stall(sock, server_port):
    """Fill the kernel's buffers with pongs, then leave about 100 KB more in the server's
    memory: past websockets' write limit (sends wait), short of the limit that drops a client."""
    queued, client_port = -1, sock.getsockname()[1]
    while queued != server_send_queue(server_port, client_port):
        queued = server_send_queue(server_port, client_port)
        sock.sendall(pings(800))
        time.sleep(0.02)
    sock.sendall(pings(800))


def test_sigterm_is_not_held_up_by_a_client_that_stopped_reading():
    server = ServeProcess("--workers", "1")
    try:
        client = handshake_by_hand(server.port)
        stall(client, server.port)
        started = time.monotonic()
        status, stderr = server.stop(signal.SIGTERM, timeout=60)
        stopped_in = time.monotonic() - started
    finally:
        server.kill()
        client.close()
    assert status == 0, stderr
    assert stopped_in < 8, stderr
    assert "closed 1001 (server stopping)" in stderr
