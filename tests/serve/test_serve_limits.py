"""`asrx serve`'s limits: frame size, sessions at once, idle sessions, session time."""

import json
import time

from tests.support.serving import (
    KEY,
    KEYS,
    handshake_status,
    server_fixture,
    wait_until_idle,
)
from tests.support.speech import (
    END_OF_STREAM,
    Exchange,
    connect,
    needs_testdata,
    read_until_closed,
    stream_until_closed,
)

pytestmark = needs_testdata


strict_server = server_fixture(
    "strict_server", api_keys=KEYS, workers=1,
    limits=dict(max_frame_bytes=4096, max_sessions=2, idle_timeout=1.0, max_session_time=3.0),
)


def test_a_frame_over_the_limit_closes_the_session_with_1009(strict_server):
    ws = connect(strict_server.url, KEY)
    ws.send_binary(bytes(4096))  # at the limit: fine
    ws.send_binary(bytes(4097))
    exchange = read_until_closed(ws, Exchange())
    assert exchange.close_code == 1009
    assert "4096" in exchange.close_reason


def test_sessions_over_the_limit_are_refused_with_503(strict_server):
    wait_until_idle(strict_server)
    first = connect(strict_server.url, KEY)
    try:
        second = connect(strict_server.url, KEY)
        assert handshake_status(strict_server.url, KEY) == 503
        second.close()
    finally:
        first.close()
    wait_until_idle(strict_server)
    third = connect(strict_server.url, KEY)  # room again
    third.send(json.dumps(END_OF_STREAM))
    assert read_until_closed(third, Exchange()).end_marker


def test_an_idle_session_is_closed_with_1008(strict_server):
    wait_until_idle(strict_server)
    ws = connect(strict_server.url, KEY)
    started = time.monotonic()
    exchange = read_until_closed(ws, Exchange())
    assert exchange.close_code == 1008
    assert "idle" in exchange.close_reason
    assert 0.9 <= time.monotonic() - started < 5


def test_a_session_over_the_time_limit_is_closed_with_1008(strict_server):
    wait_until_idle(strict_server)
    ws = connect(strict_server.url, KEY)
    exchange, took = stream_until_closed(ws, 10)  # never idle, and never a word
    assert exchange.close_code == 1008
    assert "time limit" in exchange.close_reason
    assert 2.9 <= took < 6
