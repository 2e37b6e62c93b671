"""`asrx serve` against hostile clients: crafted handshakes and frames.

Real servers on port 0 and real sockets; each test reproduces an attack and
checks that it costs the attacker its own session and nothing more.
"""

import json

import pytest
import websocket

from asrx_cli.server.app import ServerThread
from asrx_cli.server.config import Limits, ServerConfig
from asrx_cli.wire import API_KEY_HEADER, END_OF_STREAM
from tests.speech import Exchange, connect, needs_testdata, read_until_closed

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
