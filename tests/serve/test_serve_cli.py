"""`asrx serve` as a user runs it: a subprocess, its stderr, its exit status."""

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from asrx_cli.commands.serve import serve
from asrx_cli.config import SERVE_KEYS
from asrx_cli.server.process import ServeProcess
from asrx_cli.wire import END_OF_STREAM
from tests.support.run import run_asrx, run_cli
from tests.support.serving import engine_pids, resident_kib
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

KEYS = ("alpha-key-5e21", "beta-key-80c4")


@needs_testdata
def test_serves_with_keys_from_the_environment_logs_sessions_and_stops_on_sigterm():
    server = ServeProcess("-v", env={"ASRX_SERVER_KEYS": f"{KEYS[0]}, {KEYS[1]}"})
    try:
        assert server.url == f"ws://127.0.0.1:{server.port}/asrx" and server.port > 0
        health = f"http://127.0.0.1:{server.port}/healthz"
        with urllib.request.urlopen(health, timeout=10) as response:
            assert response.status == 200
        for key in KEYS:
            exchange = exchange_audio(server.url, read_pcm(GOFORWARD), api_key=key)
            assert exchange.transcript == GOFORWARD_TEXT
        with pytest.raises(Exception, match="401"):
            connect(server.url, "gamma-key-0000")
    finally:
        status, stderr = server.stop(signal.SIGTERM)
    assert status == 0, stderr
    assert "Traceback" not in stderr
    session_lines = [line for line in stderr.splitlines() if "of audio" in line]
    assert len(session_lines) == 2, stderr
    for line in session_lines:
        assert line.startswith("asrx serve: 127.0.0.1:")
        assert "2.8 s of audio, 1 sentence, closed 1000 (end of stream)" in line
    assert "refused with 401 (wrong API key)" in stderr
    assert "go forward ten meters" in stderr  # -v logs the exchange...
    for key in KEYS:
        assert key not in stderr  # ...but never a key
    assert "gamma-key-0000" not in stderr


@needs_testdata
def test_ctrl_c_closes_open_sessions_with_1001_and_exits_0():
    server = ServeProcess("--workers", "1")
    ws = connect(server.url, "any")
    send_audio(ws, read_pcm(GOFORWARD)[:32000])
    exchange = Exchange()
    client = threading.Thread(target=read_until_closed, args=(ws, exchange))
    client.start()
    try:
        status, stderr = server.stop(signal.SIGINT)
        client.join(10)
    finally:
        server.kill()
    assert status == 0, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert (exchange.close_code, exchange.close_reason) == (1001, "server stopping")
    assert "closed 1001 (server stopping)" in stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_listening_beyond_loopback_without_keys_exits_2(host):
    result = run_asrx("serve", "--host", host, "--port", "0", text=True, timeout=60)
    assert result.returncode == 2
    assert "without API keys" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_one_line_and_exit_1():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_asrx("serve", "--port", str(port), text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"asrx: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_without_the_server_extra_it_says_what_to_install():
    # A Python where the server's dependencies cannot be imported.
    code = (
        "import sys; sys.modules['websockets'] = None; sys.modules['pocketsphinx'] = None\n"
        "from asrx_cli.cli import main; main(['serve', '--port', '0'])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "asrx: error: asrx serve needs the server extra: pip install 'asrx[server]'"
    ]


def test_the_serve_command_imports_nothing_heavy():
    code = (
        "import sys, asrx_cli.server, asrx_cli.commands.serve\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('websockets', 'pocketsphinx', 'numpy'))))"
    )
    result = subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True,
                            text=True, timeout=60, check=True)
    assert json.loads(result.stdout) == []


def test_an_engine_that_cannot_load_its_model_is_one_line_and_exit_1():
    environment = dict(os.environ, POCKETSPHINX_PATH="/nonexistent/model")
    result = run_asrx("serve", "--port", "0", env=environment, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "asrx: error: cannot start the pocketsphinx engine: "
        "RuntimeError: Failed to initialize PocketSphinx"
    ]


# --- The [serve] table of the config file ----------------------------------------


def serve_with_config(tmp_path, table, *args):
    config = tmp_path / "config.toml"
    config.write_text("[serve]\n" + table + "\n", encoding="utf-8")
    return run_cli(["serve", *args], env={"ASRX_CONFIG": str(config)}, api_key=None)


def test_a_misspelt_serve_key_is_a_usage_error_naming_it(tmp_path):
    result = serve_with_config(tmp_path, "max_sesions = 4")
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "[serve] unknown key 'max_sesions'" in line and "max_sessions" in line


@pytest.mark.parametrize("setting, key", [
    ('port = "8765"', "port"),
    ("idle_timeout = true", "idle_timeout"),
    ("workers = 1.5", "workers"),
    ("api_key = [1, 2]", "api_key"),
    ("host = 127", "host"),
])
def test_a_serve_key_of_the_wrong_type_is_a_usage_error(tmp_path, setting, key):
    result = serve_with_config(tmp_path, setting)
    assert result.exit_code == 2
    assert f"[serve] {key} has the wrong type" in result.stderr


def test_every_serve_option_is_a_key_of_the_serve_table():
    assert set(SERVE_KEYS) == {param.name for param in serve.params}


def test_a_valid_serve_table_is_applied(tmp_path):
    result = serve_with_config(tmp_path, 'host = "0.0.0.0"\nmax_sessions = 2\nidle_timeout = 5')
    assert result.exit_code == 2  # the host came from the file, and it needs keys
    assert "refusing to listen on 0.0.0.0 without API keys" in result.stderr


@needs_testdata
def test_an_engine_process_that_cannot_be_started_fails_its_session_with_1011_and_is_tried_again():
    """Out of file descriptors, a replacement engine process cannot even get its pipes: that
    session ends as an engine failure would (1011, a one-line warning), and the next one, with
    descriptors to spare, gets its replacement."""
    server = ServeProcess("--workers", "1")
    try:
        [engine] = engine_pids(server.pid)
        os.kill(engine, signal.SIGKILL)
        assert stream_until_closed(connect(server.url))[0].close_code == 1011
        limits = resource.prlimit(server.pid, resource.RLIMIT_NOFILE)
        # Room for the server's end of one more connection, none for an engine's pipes.
        open_files = len(os.listdir(f"/proc/{server.pid}/fd"))
        resource.prlimit(server.pid, resource.RLIMIT_NOFILE, (open_files + 1, limits[1]))
        try:
            exchange, _ = stream_until_closed(connect(server.url))
        finally:
            resource.prlimit(server.pid, resource.RLIMIT_NOFILE, limits)
        assert (exchange.close_code, exchange.close_reason) == (1011, "speech engine failed")
        assert exchange_audio(server.url, read_pcm(GOFORWARD)).transcript == GOFORWARD_TEXT
    finally:
        status, stderr = server.stop()
    assert status == 0, stderr
    assert "Traceback" not in stderr
    assert ("speech engine failed: cannot start the pocketsphinx engine: Too many open files\n"
            in stderr)


@needs_testdata
def test_the_decoders_of_a_burst_of_sessions_are_freed_after_the_idle_time_with_no_session_after():
    """Four sessions at once make the engine process build decoders for four (about 90 MB each).
    Once they have been idle for --decoder-idle-time, all but the two last used are freed, though
    no session comes to end after them; the next session still gets a decoder ready."""
    server = ServeProcess("--workers", "1", "--decoder-idle-time", "1")
    try:
        [engine], speech = engine_pids(server.pid), read_pcm(GOFORWARD)
        alone = resident_kib(engine)
        burst = [connect(server.url) for _ in range(4)]
        for ws in burst:
            send_audio(ws, speech)
            ws.send(json.dumps(END_OF_STREAM))
        transcripts = [read_until_closed(ws, Exchange()).transcript for ws in burst]
        assert transcripts == [GOFORWARD_TEXT] * 4
        after_burst = resident_kib(engine)
        deadline = time.monotonic() + 15
        while resident_kib(engine) > after_burst - 150 * 1024 and time.monotonic() < deadline:
            time.sleep(0.2)
        freed = after_burst - resident_kib(engine)
        assert after_burst - alone > 200 * 1024 and freed > 150 * 1024, (alone, after_burst, freed)
        assert exchange_audio(server.url, speech).transcript == GOFORWARD_TEXT
    finally:
        status, stderr = server.stop()
    assert status == 0, stderr
