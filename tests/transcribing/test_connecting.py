"""Connecting: the API key, the handshake, the network and TLS, each failure with its exit status
and one line on stderr."""

import socket

import pytest

from tests.support.run import run_cli, run_transcribe
from tests.support.scripted import Script, sentence


def test_no_api_key_is_a_usage_error(server, speech_wav):
    result = run_transcribe(server, speech_wav, api_key=None)
    assert result.exit_code == 2
    assert result.stderr == ("asrx: error: no API key: set ASRX_API_KEY, pass --api-key, "
                             "store one with `asrx login`, or put api_key in the config file\n")
    assert server.records == []


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_exits_4(make_server, speech_wav, status):
    server = make_server(Script(reject_status=status))
    result = run_transcribe(server, speech_wav)
    assert result.exit_code == 4
    assert f"the server refused the API key (HTTP {status}" in result.stderr
    assert "check --api-key" in result.stderr and len(result.stderr.splitlines()) == 1


def test_wrong_key_is_refused(server, speech_wav):
    result = run_transcribe(server, speech_wav, api_key="not-the-key")
    assert result.exit_code == 4 and "HTTP 401 Unauthorized" in result.stderr
    assert "not-the-key" not in result.stderr


def test_other_handshake_failures_exit_5_with_the_status_line(make_server, speech_wav):
    server = make_server(Script(reject_status=502))
    result = run_transcribe(server, speech_wav)
    assert result.exit_code == 5
    assert result.stderr == ("asrx: error: the server refused the WebSocket handshake "
                             "(HTTP 502 Bad Gateway)\n")
    assert server.handshakes == 1  # not a busy server's refusal: not tried again


def test_connection_refused(speech_wav):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_cli(["transcribe", "--url", f"ws://127.0.0.1:{port}/asrx", speech_wav])
    assert result.exit_code == 5
    assert result.stderr == f"asrx: error: cannot connect to 127.0.0.1:{port}: connection refused\n"


def test_dns_failure_and_plaintext_warning(speech_wav):
    result = run_cli(["transcribe", "--url", "ws://asrx-test.invalid/asrx", speech_wav])
    assert result.exit_code == 5
    lines = result.stderr.splitlines()
    assert lines[0] == ("asrx: warning: the API key travels unencrypted to asrx-test.invalid "
                        "over ws://; use wss://")
    assert lines[1].startswith("asrx: error: cannot resolve host 'asrx-test.invalid'")


def test_invalid_url_is_a_usage_error(speech_wav):
    result = run_cli(["transcribe", "--url", "http://example.org/asrx", speech_wav])
    assert result.exit_code == 2 and "invalid URL" in result.stderr


def test_tls_verification_failure_and_ca_file(make_server, speech_wav, tls_material):
    context, ca_file = tls_material
    server = make_server(Script(timed=[(0.5, sentence("secure"))]), ssl_context=context)
    result = run_transcribe(server, speech_wav, "--speed", "0")
    assert result.exit_code == 5
    assert "TLS certificate verification failed for 127.0.0.1" in result.stderr
    assert "--ca-file" in result.stderr
    assert server.records == []
    result = run_transcribe(server, speech_wav, "--speed", "0", "--ca-file", ca_file)
    assert (result.exit_code, result.stdout) == (0, "secure\n")
