"""A server that turns a session away for now (HTTP 503 full, 429 too many requests) is asked
again with the backoff of a lost connection, waiting at least what its Retry-After says."""

import email.utils

import pytest

from asrx_cli.net.retry_after import retry_after
from asrx_cli.stream.reconnect import MAX_RETRY_AFTER, busy_delay
from tests.support.run import run_transcribe
from tests.support.scripted import Script, sentence

HELLO = Script(timed=[(0.5, sentence("hello"))])


def busy(status, wait="1"):
    return Script(reject_status=status, reject_headers={"Retry-After": wait})


def test_a_429_with_retry_after_is_asked_again_that_much_later(make_server, speech_wav):
    server = make_server([busy(429), HELLO])
    result = run_transcribe(server, "--speed", "0", "--retry-delay", "0.01", speech_wav)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "hello\n"
    assert result.stderr == ("asrx: warning: the server is busy (HTTP 429 Too Many Requests); "
                             "connecting again in 1.0 s, attempt 1/5\n")
    first, second = server.handshake_times
    assert second - first >= 0.9  # Retry-After, not the 10 ms backoff
    assert len(server.records) == 1 and server.record.seconds == 1.0


def test_a_503_on_reconnect_waits_for_its_retry_after(make_server, speech_wav):
    cut = Script(timed=[(0.25, sentence("hello"))], close_after_seconds=0.5)
    server = make_server([cut, busy(503), Script()])
    result = run_transcribe(server, "--speed", "0", "--retry-delay", "0.01", speech_wav)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "hello\n"
    warnings = result.stderr.splitlines()
    assert len(warnings) == 2 and "(close 1011); reconnecting" in warnings[0]
    assert warnings[1].startswith("asrx: warning: connection lost after ")
    assert warnings[1].endswith("(the server is busy (HTTP 503 Service Unavailable)); "
                                "reconnecting in 1.0 s, attempt 2/5")
    assert server.handshake_times[2] - server.handshake_times[1] >= 0.9


def test_a_server_busy_past_the_retries_exits_5_naming_the_status(make_server, speech_wav):
    server = make_server(busy(503, "0"))
    result = run_transcribe(server, "--retries", "2", "--retry-delay", "0.01", speech_wav)
    assert result.exit_code == 5
    lines = result.stderr.splitlines()
    assert lines[-1] == ("asrx: error: the server is busy (HTTP 503 Service Unavailable); "
                         "gave up after 2 attempts to connect")
    assert [line.startswith("asrx: warning: the server is busy (HTTP 503") for line in lines[:-1]] \
        == [True, True]
    assert server.handshakes == 3 and server.records == []


def test_no_retries_no_second_attempt(make_server, speech_wav):
    server = make_server(busy(503, "0"))
    result = run_transcribe(server, "--retries", "0", speech_wav)
    assert result.exit_code == 5
    assert result.stderr == "asrx: error: the server is busy (HTTP 503 Service Unavailable)\n"
    assert server.handshakes == 1


@pytest.mark.parametrize("value, seconds", [("1", 1.0), (" 120 ", 120.0), ("0", 0.0)])
def test_retry_after_in_seconds(value, seconds):
    assert retry_after(value) == seconds


def test_retry_after_as_an_http_date():
    now = 1_800_000_000.0
    assert retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == 30.0
    assert retry_after(email.utils.formatdate(now - 30, usegmt=True), now) == 0.0  # past: at once
    assert retry_after("Fri, 15 Jan 2027 08:00:00 -0000", 1_800_000_000.0) is not None


@pytest.mark.parametrize("value", [None, "", "soon", "-1", "1.5", "Someday, 99 Foo 20"])
def test_retry_after_that_says_nothing_leaves_the_backoff(value):
    assert retry_after(value) is None


def test_the_wait_is_the_longer_of_the_backoff_and_retry_after_capped():
    assert busy_delay(0.2, None) == 0.2
    assert busy_delay(0.2, 1.0) == 1.0
    assert busy_delay(5.0, 1.0) == 5.0
    assert busy_delay(0.2, 3600.0) == MAX_RETRY_AFTER == 60.0
