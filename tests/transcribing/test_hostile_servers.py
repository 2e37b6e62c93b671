"""`asrx transcribe` against raw-socket servers that redirect, stall, trickle or fall silent.

Where a hang could happen the installed `asrx` runs as a subprocess, killed if
it outlives its limit; elsewhere click's runner does.

Every wait must end within the option that bounds it; the time limits asserted
here are generous (timeout + 5 s): they tell a bounded wait from a hang, they
measure nothing.
"""

import base64
import os
import signal
import subprocess
import time

import pytest

from tests.support import API_KEY
from tests.support.audio import noise, write_audio
from tests.support.rawserver import CONTINUATION, PING, TEXT, frame, trickle, tunnel_to
from tests.support.run import ASRX, run_cli, start_asrx
from tests.support.scripted import Script, sentence

pytestmark = pytest.mark.skipif(not os.path.exists(ASRX), reason=f"asrx is not installed at {ASRX}")

SLACK = 5.0  # seconds beyond the bound under test before a wait counts as a hang


@pytest.fixture
def short_wav(tmp_path):
    return write_audio(tmp_path / "short.wav", noise(0.5), 16000)


def run_asrx(url, *args, stdin=subprocess.DEVNULL, limit=30.0):
    """Run `asrx transcribe`; (status, stdout, stderr, seconds), killed if it outlives `limit`."""
    started = time.monotonic()
    process = start_asrx("transcribe", "--url", url, *args, stdin=stdin)
    try:
        out, err = process.communicate(timeout=limit)
    finally:
        process.kill()
        process.wait()
    return process.returncode, out.decode(), err.decode(), time.monotonic() - started


# --- redirects -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_error_and_the_key_never_follows_it(raw_server, short_wav, status):
    elsewhere = raw_server(lambda server, conn: server.read_request(conn))
    target = elsewhere.url("/stolen")

    def redirect(server, conn):
        server.read_request(conn)
        conn.sendall(f"HTTP/1.1 {status} Moved\r\nLocation: {target}\r\n"
                     "Content-Length: 0\r\n\r\n".encode())
        server.idle()

    server = raw_server(redirect)
    result = run_cli(["transcribe", "--url", server.url(), short_wav])
    assert (result.exit_code, result.stdout) == (5, "")
    assert result.stderr == ("asrx: error: the server redirected the handshake "
                             f"(HTTP {status} to {target}); "
                             "not followed: the API key goes only to --url\n")
    assert API_KEY.encode() in server.requests[0]
    time.sleep(0.2)  # a connection to the target, had there been one, would be in by now
    assert elsewhere.connections == [] and elsewhere.requests == []


# --- the handshake -----------------------------------------------------------------------


def test_a_handshake_answer_that_trickles_is_bounded_by_connect_timeout(raw_server, short_wav):
    def slow_answer(server, conn):
        server.read_request(conn)
        endless = b"HTTP/1.1 101 Switching Protocols\r\nX-Padding: " + b"a" * 10000
        trickle(conn, endless, 0.2, server.stopping)

    server = raw_server(slow_answer)
    status, out, err, seconds = run_asrx(server.url(), short_wav, "--connect-timeout", "0.5")
    assert (status, out) == (5, "")
    assert err == f"asrx: error: timed out after 0.5 s connecting to 127.0.0.1:{server.port}\n"
    assert seconds < 0.5 + SLACK


def test_a_tls_handshake_left_unanswered_is_bounded_by_connect_timeout(raw_server, short_wav):
    server = raw_server(lambda server, conn: server.idle())  # takes the ClientHello, says nothing
    url = server.url().replace("ws://", "wss://")
    status, out, err, seconds = run_asrx(url, short_wav, "--connect-timeout", "0.5")
    assert (status, out) == (5, "")
    assert err.endswith("asrx: error: timed out after 0.5 s connecting to "
                        f"127.0.0.1:{server.port}\n")
    assert seconds < 0.5 + SLACK


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 100000000000\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nX-Padding: ",
], ids=["a refusal with an endless body", "an endless header"])
def test_a_handshake_answer_without_end_is_cut_off(raw_server, short_wav, answer):
    def endless(server, conn):
        server.read_request(conn)
        conn.sendall(answer)
        while not server.stopping.is_set():
            conn.sendall(b"a" * 65536)

    server = raw_server(endless)
    status, out, err, _ = run_asrx(server.url(), short_wav, "--connect-timeout", "30")
    assert (status, out) == (5, "")
    assert err == (f"asrx: error: the handshake answer from 127.0.0.1:{server.port} "
                   "is longer than 64 KiB: not a WebSocket server\n")


# --- the server stops reading --------------------------------------------------------------


def never_reads(server, conn):
    server.upgrade(conn)
    server.idle()


def never_reads_and_pings(server, conn):
    server.upgrade(conn)
    while not server.stopping.wait(0.05):
        conn.sendall(frame(PING, b"pong, please"))


@pytest.mark.parametrize("handle", [never_reads, never_reads_and_pings], ids=["silent", "pinging"])
def test_a_server_that_stops_reading_fails_the_run_after_send_timeout(raw_server, handle):
    server = raw_server(handle, receive_buffer=4096)
    with open("/dev/zero", "rb") as endless:  # raw audio without end, sent as fast as it goes
        status, out, err, seconds = run_asrx(server.url(), "-", "--send-timeout", "0.5",
                                             "--retries", "0", stdin=endless)
    assert (status, out) == (5, "")
    assert err == ("asrx: error: the server took nothing from asrx for 0.5 s (--send-timeout): "
                   "it has stopped reading\n")
    assert seconds < 0.5 + SLACK


def test_second_ctrl_c_exits_at_once_while_a_send_is_blocked(raw_server):
    server = raw_server(never_reads, receive_buffer=4096)
    with open("/dev/zero", "rb") as endless:
        process = start_asrx("transcribe", "--url", server.url(), "-", "--send-timeout", "60",
                             stdin=endless)
    try:
        assert server.upgraded.wait(10)
        time.sleep(0.5)  # the socket's buffers fill in far less: the sender is blocked in a send
        process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        out, err = process.communicate(timeout=SLACK)
        assert time.monotonic() - started < SLACK
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130
    assert err.decode().splitlines()[-1] == "asrx: interrupted"
    assert "Traceback" not in err.decode()


# --- the server falls silent mid-frame ------------------------------------------------------


def silent_after(first: bytes):
    def handle(server, conn):
        server.upgrade(conn)
        server.drain(conn)
        conn.sendall(first)
        server.idle()
    return handle


def chatter(server, conn):
    """Frames that are not the end marker, ten a second, for ever."""
    server.upgrade(conn)
    server.drain(conn)
    while not server.stopping.wait(0.1):
        conn.sendall(frame(TEXT, b'{"type": "keepalive"}'))


@pytest.mark.parametrize("handle", [
    silent_after(frame(PING, b"are you there")),
    silent_after(frame(TEXT, b'{"type": "realtime", "te', claimed=100)),
    silent_after(frame(TEXT, b"", claimed=1 << 20)[:3]),
    chatter,
], ids=["ping", "half a frame", "half a header", "frames that are not the marker"])
def test_the_end_marker_wait_is_bounded_by_final_timeout(raw_server, short_wav, handle):
    server = raw_server(handle)
    status, out, err, seconds = run_asrx(server.url(), short_wav, "--speed", "0",
                                         "--final-timeout", "0.5")
    assert (status, out) == (5, "")
    assert err == ("asrx: error: no end marker from the server within 0.5 s "
                   "of the end of the audio\n")
    assert seconds < 0.5 + SLACK


def test_a_frame_that_trickles_in_is_read_whole(raw_server, short_wav):
    message = frame(TEXT, b'{"type": "realtime", "state": "Sentence", "text": "slowly"}')
    marker = frame(TEXT, b'{"type": "realtime", "text": "end_of_process"}')

    def slow_frames(server, conn):
        server.upgrade(conn)
        server.drain(conn)
        # 1.4 s: longer than a receive waits, read over several
        trickle(conn, message, 0.02, server.stopping)
        conn.sendall(marker)
        server.idle()

    server = raw_server(slow_frames)
    status, out, err, _ = run_asrx(server.url(), short_wav, "--speed", "0", "--final-timeout", "5")
    assert (status, out, err) == (0, "slowly\n", "")


def test_a_frame_that_trickles_in_too_slowly_is_cut_off_by_final_timeout(raw_server, short_wav):
    def slow_frame(server, conn):
        server.upgrade(conn)
        server.drain(conn)
        trickle(conn, frame(TEXT, b"x" * 1000), 0.1, server.stopping)  # 100 s for one frame

    server = raw_server(slow_frame)
    status, out, err, seconds = run_asrx(server.url(), short_wav, "--speed", "0",
                                         "--final-timeout", "0.5")
    assert (status, out) == (5, "")
    assert err == ("asrx: error: no end marker from the server within 0.5 s "
                   "of the end of the audio\n")
    assert seconds < 0.5 + SLACK


@pytest.mark.parametrize("message", [
    frame(TEXT, b"", claimed=1 << 40),  # one frame that says it is a terabyte
    b"".join(frame(CONTINUATION if n else TEXT, b"x" * 65536, final=False)  # a message without end
             for n in range(80)),
], ids=["a huge frame", "endless fragments"])
def test_a_message_too_large_to_keep_ends_the_run(raw_server, short_wav, message):
    def flood(server, conn):
        server.upgrade(conn)
        server.drain(conn)
        conn.sendall(message)
        server.idle()

    server = raw_server(flood)
    status, out, err, _ = run_asrx(server.url(), short_wav, "--speed", "0")
    assert (status, out) == (5, "")
    assert err == "asrx: error: the server sent a message of more than 4 MiB\n"


# --- proxies ---------------------------------------------------------------------------------


def test_an_http_proxy_from_the_environment_tunnels_the_connection(make_server, raw_server,
                                                                   short_wav):
    server = make_server(Script(timed=[(0.2, sentence("through the proxy"))]))
    proxy = raw_server(tunnel_to(server.port))
    environment = {"http_proxy": f"http://someone:pr0xy-secret@127.0.0.1:{proxy.port}",
                   "no_proxy": ""}
    result = run_cli(["transcribe", "--url", "ws://asrx.example/asrx", "--speed", "0", "-v",
                      short_wav], env=environment)
    assert (result.exit_code, result.stdout) == (0, "through the proxy\n"), result.stderr
    request = proxy.requests[0].decode()
    assert request.startswith("CONNECT asrx.example:80 HTTP/1.1\r\n")
    assert ("Proxy-Authorization: Basic " + base64.b64encode(b"someone:pr0xy-secret").decode()
            in request)
    assert API_KEY not in request  # the key travels inside the tunnel only
    assert server.record.headers["apikey"] == API_KEY
    assert "pr0xy-secret" not in result.stderr
    assert f"through the proxy 127.0.0.1:{proxy.port}" in result.stderr


def test_a_proxy_that_refuses_the_tunnel_is_named(raw_server, short_wav):
    def refuse(server, conn):
        server.read_request(conn)
        conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    proxy = raw_server(refuse)
    environment = {"https_proxy": f"127.0.0.1:{proxy.port}", "no_proxy": ""}
    result = run_cli(["transcribe", "--url", "wss://asrx.example/asrx", short_wav], env=environment)
    assert (result.exit_code, result.stdout) == (5, "")
    assert result.stderr == (f"asrx: error: the proxy 127.0.0.1:{proxy.port} refused a tunnel to "
                             "asrx.example:443 (HTTP/1.1 403 Forbidden)\n")
