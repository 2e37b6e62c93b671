"""`asrx serve` speaking the protocol: handshake, messages, limits, bad clients.

Real servers (in this process, on port 0, engines in worker processes) and a
real WebSocket client; audio is sent unpaced.
"""

import json
import os
import signal
import socket
import threading
import time

import pytest

from asrx_cli.errors import UsageError
from asrx_cli.server.settings import ServerConfig
from tests.support.serving import (
    KEY,
    KEYS,
    handshake_status,
    health_url,
    http_get,
    server_fixture,
    start_server,
)
from tests.support.speech import (
    END_OF_STREAM,
    GOFORWARD,
    GOFORWARD_TEXT,
    LIBRIVOX,
    NUMBERS,
    SOMETHING,
    SOMETHING_TEXT,
    Exchange,
    connect,
    exchange_audio,
    needs_testdata,
    read_pcm,
    read_until_closed,
    send_audio,
    server_has_spoken,
    silence,
    stream_until_closed,
)

pytestmark = needs_testdata



server = server_fixture("server", api_keys=KEYS, limits=dict(close_wait=1.0))
open_server = server_fixture("open_server", workers=1)


# --- HTTP: health, paths, keys ------------------------------------------------


def test_healthz_answers_200_with_the_engine_status(server):
    status, headers, body = http_get(health_url(server))
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["status"] == "ok"


def test_other_paths_are_not_found(server):
    status, _, body = http_get(f"http://127.0.0.1:{server.port}/nothing")
    assert status == 404
    assert "/asrx" in body


def test_missing_key_is_refused_with_401(server):
    assert handshake_status(server.url, api_key=None) == 401


def test_wrong_key_is_refused_with_401(server):
    assert handshake_status(server.url, api_key="key-one-4d1") == 401


def test_every_configured_key_is_accepted(server):
    for key in sorted(KEYS):
        exchange = exchange_audio(server.url, read_pcm(GOFORWARD), api_key=key)
        assert exchange.transcript == GOFORWARD_TEXT


@pytest.mark.parametrize("api_key", ["anything", None])
def test_without_configured_keys_any_key_or_none_is_accepted(open_server, api_key):
    ws = connect(open_server.url, api_key)
    ws.send(json.dumps(END_OF_STREAM))
    assert read_until_closed(ws, Exchange()).end_marker


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.org", ""])
def test_listening_beyond_loopback_without_keys_is_refused(host):
    with pytest.raises(UsageError, match="without API keys"):
        ServerConfig(host=host).check()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.2.1", "::1", "localhost"])
def test_loopback_without_keys_is_allowed_and_anything_with_keys(host):
    ServerConfig(host=host).check()
    ServerConfig(host="0.0.0.0", api_keys=KEYS).check()


# --- The conversation -----------------------------------------------------------


def test_hypotheses_grow_whole_and_only_when_changed_then_the_end_marker(server):
    # 7 s of read speech: partials come once the first 2 s have set the session's mean.
    exchange = exchange_audio(server.url, read_pcm(min(LIBRIVOX.glob("*.wav"))), api_key=KEY)
    texts = [m["text"] for m in exchange.realtime]
    assert all(m == {"type": "realtime", "state": "Sentence", "text": m["text"]}
               for m in exchange.realtime)
    assert len(texts) > 5, "partial hypotheses should come as the words do"
    assert all(a != b for a, b in zip(texts, texts[1:])), \
        "a message repeated an unchanged hypothesis"
    # The whole sentence, not the last words.
    assert "dashwood had then leisure to consider how" in texts[-1]
    assert exchange.messages[-1] == {"type": "realtime", "text": "end_of_process"}
    assert exchange.close_code == 1000


def test_speech_after_silence_starts_a_new_sentence(server):
    pcm = read_pcm(GOFORWARD) + silence(1.5) + read_pcm(SOMETHING)
    exchange = exchange_audio(server.url, pcm, api_key=KEY)
    states = [m["state"] for m in exchange.realtime]
    assert states[0] == "Sentence"
    assert states.count("NewSentence") == 1
    assert exchange.sentences() == [GOFORWARD_TEXT, SOMETHING_TEXT]
    # The first sentence's final text came before the next sentence began.
    new_at = states.index("NewSentence")
    assert exchange.realtime[new_at - 1]["text"] == GOFORWARD_TEXT


def test_silence_produces_no_message_at_all(server):
    exchange = exchange_audio(server.url, silence(3.0), api_key=KEY)
    assert exchange.messages == [{"type": "realtime", "text": "end_of_process"}]


@pytest.mark.parametrize("end_of_stream", [
    {"data": {"status": "CloseConnection"}},
    {"status": "end of stream"},
    {"data": {"status": "end of stream"}},
    {"data": {"status": "End_Of_Stream"}, "extra": 1},
])
def test_both_forms_of_end_of_stream_flush_the_last_words(server, end_of_stream):
    # No silence after the speech: only the end of stream can close the sentence.
    pcm = read_pcm(GOFORWARD)[: int(2.5 * 32000)]
    exchange = exchange_audio(server.url, pcm, api_key=KEY, end_of_stream=end_of_stream)
    assert exchange.end_marker
    assert exchange.transcript.startswith("go forward")


def test_audio_that_does_not_fill_a_batch_is_decoded_without_waiting_for_more(server):
    # The server hands audio to the engine in batches. Sent in 25 frames of
    # 3100 bytes, the speech's last frame is a batch alone, that must not wait
    # for audio that never comes: "ten meter(s)" is in it ("can meet" without it;
    # how the batches fall with the load may drop the plural).
    # A sentence first: a session's first 2 s of speech have no partial.
    opening = read_pcm(SOMETHING) + silence(1.0)
    opening += bytes(-len(opening) % (2 * 3100))  # in pairs of frames, as the batches take them
    ws = connect(server.url, KEY)
    try:
        send_audio(ws, opening + read_pcm(GOFORWARD)[:25 * 3100], frame_bytes=3100)
        texts = []
        while not texts[-1:] == [GOFORWARD_TEXT] and server_has_spoken(ws, 10.0):
            texts.append(json.loads(ws.recv())["text"])
        assert texts and texts[-1].startswith("go forward ten meter"), texts
    finally:
        ws.close()


def test_frames_of_any_size_even_odd_give_the_same_transcript(server):
    pcm = read_pcm(GOFORWARD)
    ws = connect(server.url, KEY)
    sizes = [1, 1023, 7, 4001, 2, 333]
    position, turn = 0, 0
    while position < len(pcm):
        size = sizes[turn % len(sizes)]
        ws.send_binary(pcm[position:position + size])
        position, turn = position + size, turn + 1
    ws.send_binary(b"\x01")  # half a sample at the very end
    ws.send(json.dumps(END_OF_STREAM))
    assert read_until_closed(ws, Exchange()).transcript == GOFORWARD_TEXT


def test_other_json_messages_are_ignored(server):
    ws = connect(server.url, KEY)
    ws.send(json.dumps({"type": "hello", "status": "open"}))
    send_audio(ws, read_pcm(GOFORWARD))
    ws.send(json.dumps({"data": {"status": "still talking"}}))
    ws.send(json.dumps(END_OF_STREAM))
    assert read_until_closed(ws, Exchange()).transcript == GOFORWARD_TEXT


def test_the_server_closes_when_the_client_lingers_after_the_end_marker(server):
    ws = connect(server.url, KEY)
    send_audio(ws, read_pcm(GOFORWARD))
    ws.send(json.dumps(END_OF_STREAM))
    started = time.monotonic()
    exchange = read_until_closed(ws, Exchange(), close_on_marker=False)
    waited = time.monotonic() - started
    assert exchange.end_marker
    assert (exchange.close_code, exchange.close_reason) == (1000, "end of stream")
    assert 0.9 <= waited < 5.0  # close_wait is 1 s in this server


def test_four_sessions_at_once_each_get_their_own_transcript(server):
    recordings = {GOFORWARD: GOFORWARD_TEXT, SOMETHING: SOMETHING_TEXT, NUMBERS: "thirty three"}
    jobs = list(recordings.items()) + [(GOFORWARD, GOFORWARD_TEXT)]
    results = [None] * len(jobs)

    def run(index, path):
        results[index] = exchange_audio(server.url, read_pcm(path), api_key=KEY, frame_bytes=2048)

    threads = [threading.Thread(target=run, args=(i, path)) for i, (path, _) in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for (path, expected), exchange in zip(jobs, results):
        assert exchange is not None and exchange.end_marker, path
        if path == NUMBERS:
            assert exchange.transcript.startswith(expected)
        else:
            assert exchange.transcript == expected


# --- Bad clients end their own session, never the server ------------------------


def test_text_that_is_not_json_closes_the_session_with_1003(server):
    ws = connect(server.url, KEY)
    send_audio(ws, read_pcm(GOFORWARD)[:32000])
    ws.send("end of stream, please")
    exchange = read_until_closed(ws, Exchange())
    assert (exchange.close_code, exchange.close_reason) == (1003, "text frame is not JSON")
    assert exchange_audio(server.url, read_pcm(GOFORWARD), api_key=KEY).transcript == GOFORWARD_TEXT


def test_a_client_that_vanishes_mid_stream_leaves_the_server_serving(server):
    for _ in range(2):
        ws = connect(server.url, KEY)
        send_audio(ws, read_pcm(GOFORWARD)[:48000])
        ws.sock.shutdown(socket.SHUT_RDWR)  # gone, without a close frame
        ws.sock.close()
    assert http_get(health_url(server))[0] == 200
    assert exchange_audio(server.url, read_pcm(GOFORWARD), api_key=KEY).transcript == GOFORWARD_TEXT


def test_a_dead_engine_process_fails_its_sessions_with_1011_and_is_replaced():
    server = start_server(workers=1)
    try:
        pool = server.server.pool
        ws = connect(server.url)
        send_audio(ws, read_pcm(GOFORWARD)[:32000])
        os.kill(pool.pids[0], signal.SIGKILL)
        exchange, _ = stream_until_closed(ws)
        assert (exchange.close_code, exchange.close_reason) == (1011, "speech engine failed")
        assert exchange_audio(server.url, read_pcm(GOFORWARD)).transcript == GOFORWARD_TEXT
        assert len(pool.pids) == 1
    finally:
        server.stop()
