"""Reconnect with replay, through a TCP proxy that cuts a real server's connection.

The input is three real recordings with pauses between them; the scripted
server speaks by the audio each connection brought, so each connection gets
a script of its own (the second starts where asrx replays from).
"""

import re
import time

import pytest

from tests.support.audio import noise, read_wav
from tests.support.run import json_lines, run_cli
from tests.support.scripted import Script, new_sentence, sentence
from tests.support.speech import (
    BYTES_PER_SECOND,
    GOFORWARD,
    NUMBERS,
    SOMETHING,
    needs_testdata,
)
from tests.support.tcp_proxy import Fault, Proxy
from tests.support.utterances import layout, recording

pytestmark = needs_testdata

FAST = ["--speed", "8", "--retry-delay", "0.05"]
# Where the cuts fall: in two's speech, 0.8 s of audio after one's final is sent (at two + 0.4),
# 100 ms at --speed 8, so that the final is through the proxy before a reset discards what is in
# flight.
CUT_INTO_TWO = 1.2
WARNING = re.compile(r"^asrx: warning: connection lost after (\d+\.\d) s of audio \((.+)\); "
                     r"reconnecting in \d+\.\d s, attempt (\d)/(\d)$")


@pytest.fixture(scope="module")
def talk():
    utterances = [recording(GOFORWARD, "one"), recording(SOMETHING, "two"),
                  recording(NUMBERS, "three")]
    return layout(utterances, [0.8, 1.0, 1.0, 0.8])


@pytest.fixture
def audio_file(talk, tmp_path):
    path = tmp_path / "talk.raw"
    path.write_bytes(talk.pcm)
    return path


def scripts(talk, cut: float, then: Script = None):
    """Sentence one, then two while its speech goes on; the second connection hears two again,
    from wherever asrx replays, and three."""
    (one, _), (two, _), (three, _) = talk.truth
    first = Script(timed=[(one + 0.5, sentence("one")), (two + 0.4, new_sentence("two"))])
    second = then or Script(timed=[(two + 0.5, sentence("two")),
                                   (three + 0.5, new_sentence("three"))],
                            input_audio=talk.pcm)
    assert cut > two + 0.4
    return [first, second]


def run(proxy, *args, **options):
    return run_cli(["transcribe", "--url", proxy.url(), *map(str, args)], **options)


def warnings(stderr: str):
    return [WARNING.match(line) for line in stderr.splitlines() if "warning" in line]


@pytest.mark.parametrize("action, code, cause", [
    ("code", 1001, "close 1001"), ("code", 1011, "close 1011"), ("code", 1012, "close 1012"),
    ("code", 1013, "close 1013"), ("code", 1008, "close 1008"), ("close", None, None),
    ("reset", None, None),
])
def test_a_cut_connection_goes_on_in_a_new_session_from_the_open_sentence(
        make_server, talk, audio_file, action, code, cause):
    cut = talk.truth[1][0] + CUT_INTO_TWO
    server = make_server(scripts(talk, cut))
    with Proxy(server.port, [Fault(cut, action, code or 1011)]) as proxy:
        result = run(proxy, audio_file, "--json", *FAST)
    assert result.exit_code == 0, result.stderr
    events = json_lines(result.stdout)
    finals = [(e["sentence"], e["text"]) for e in events if e["type"] == "final"]
    assert finals == [(0, "one"), (1, "two"), (2, "three")]
    [reconnect] = [e for e in events if e["type"] == "reconnect"]
    [warning] = warnings(result.stderr)
    assert (warning and int(warning.group(3)) == reconnect["attempt"] == 1
            and reconnect["retries"] == 5)
    assert warning.group(2) == reconnect["cause"]
    if cause:  # a close frame: its code, whatever the sender met first
        assert reconnect["cause"] == cause and reconnect["code"] == code
    assert reconnect["position"] == pytest.approx(cut, abs=0.5)
    # The replay starts before the speech of the open sentence, where the detector heard the speech
    # of the last final end (a breath before the end of its recording).
    onset = talk.truth[1][0]
    assert talk.truth[0][1] - 0.3 <= reconnect["replay_from"] <= onset
    # The server side got every sample of the input: the second session from the replay point on.
    first, second = server.records[0].wait_finished(), server.records[1].wait_finished()
    replay = int(reconnect["replay_from"] * BYTES_PER_SECOND)
    assert bytes(first.audio) == talk.pcm[:len(first.audio)]
    assert bytes(second.audio) == talk.pcm[replay:] and replay <= len(first.audio)
    assert second.end_of_stream is not None


def test_plain_text_prints_each_sentence_once(make_server, talk, audio_file):
    cut = talk.truth[1][0] + CUT_INTO_TWO
    server = make_server(scripts(talk, cut))
    with Proxy(server.port, [Fault(cut, "code", 1011)]) as proxy:
        result = run(proxy, audio_file, *FAST)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "one\ntwo\nthree\n"
    assert len(warnings(result.stderr)) == 1 and "error" not in result.stderr


def test_new_connections_refused_for_a_while_are_retried(make_server, talk, audio_file):
    cut = talk.truth[1][0] + CUT_INTO_TWO
    server = make_server(scripts(talk, cut))
    with Proxy(server.port, [Fault(cut, "reset", refuse_for=0.5)]) as proxy:
        result = run(proxy, audio_file, "--retries", "8", "--speed", "8", "--retry-delay", "0.1")
        refused = proxy.refused
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "one\ntwo\nthree\n"
    attempts = [int(w.group(3)) for w in warnings(result.stderr)]
    assert refused >= 1 and attempts == list(range(1, refused + 2))
    assert "connection refused" in result.stderr or "reset" in result.stderr


def test_a_server_gone_for_good_ends_with_exit_5_and_the_transcript_so_far(make_server, talk,
                                                                           audio_file):
    cut = talk.truth[1][0] + CUT_INTO_TWO
    server = make_server(scripts(talk, cut))
    began = time.monotonic()
    with Proxy(server.port, [Fault(cut, "close")], connections=1) as proxy:
        result = run(proxy, audio_file, "--retries", "3", *FAST)
    assert time.monotonic() - began < 15
    assert result.exit_code == 5
    assert result.stdout == "one\ntwo\n"  # the final, and the open sentence as it stood
    attempts = [int(w.group(3)) for w in warnings(result.stderr)]
    assert attempts == [1, 2, 3]
    last = result.stderr.splitlines()[-1]
    assert re.match(r"asrx: error: connection lost after \d+\.\d s of audio \(.+\); "
                    r"gave up after 3 attempts to reconnect$", last), last


def test_a_refused_key_on_the_second_connection_exits_4_with_the_transcript(make_server, talk,
                                                                           audio_file):
    cut = talk.truth[1][0] + CUT_INTO_TWO
    server = make_server(scripts(talk, cut, then=Script(reject_status=401)))
    with Proxy(server.port, [Fault(cut, "code", 1012)]) as proxy:
        result = run(proxy, audio_file, *FAST)
    assert result.exit_code == 4
    assert result.stdout == "one\ntwo\n"
    assert len(warnings(result.stderr)) == 1 and server.handshakes == 2
    assert result.stderr.splitlines()[-1].startswith("asrx: error: the server refused the API key "
                                                     "(HTTP 401")


@pytest.mark.parametrize("code", [1002, 1003, 1007, 1009, 1010])
def test_a_close_that_blames_the_client_is_never_retried(make_server, talk, audio_file, code):
    cut = talk.truth[1][0] + CUT_INTO_TWO
    server = make_server(scripts(talk, cut))
    with Proxy(server.port, [Fault(cut, "code", code)]) as proxy:
        result = run(proxy, audio_file, *FAST)
        connections = proxy.connections
    assert result.exit_code == 5 and connections == 1
    assert result.stdout == "one\ntwo\n"
    assert f"close code {code}" in result.stderr and "reconnecting" not in result.stderr


def test_no_retries_with_retries_0_from_the_environment(make_server, talk, audio_file):
    cut = talk.truth[1][0] + CUT_INTO_TWO
    server = make_server(scripts(talk, cut))
    with Proxy(server.port, [Fault(cut, "code", 1011)]) as proxy:
        result = run(proxy, audio_file, "--speed", "8", env={"ASRX_RETRIES": "0"})
        connections = proxy.connections
    assert result.exit_code == 5 and connections == 1
    assert "mid-stream (close code 1011" in result.stderr


def test_save_audio_keeps_the_input_once_whatever_was_sent_again(make_server, talk, audio_file,
                                                                 tmp_path):
    cut = talk.truth[1][0] + CUT_INTO_TWO
    server = make_server(scripts(talk, cut))
    saved = tmp_path / "sent.wav"
    with Proxy(server.port, [Fault(cut, "reset")]) as proxy:
        result = run(proxy, audio_file, "--save-audio", saved, *FAST)
    assert result.exit_code == 0, result.stderr
    assert len(server.records) == 2 and read_wav(saved) == talk.pcm


def test_a_server_that_stops_reading_is_left_for_a_new_session(make_server, tmp_path):
    pcm = noise(120.0, seed=3).tobytes()  # more than the sockets' buffers hold, sent unpaced
    path = tmp_path / "long.raw"
    path.write_bytes(pcm)
    server = make_server([Script(), Script()])
    with Proxy(server.port, [Fault(1.0, "stall")]) as proxy:
        result = run(proxy, path, "--speed", "0", "--send-timeout", "0.5", "--retry-delay", "0.05")
    assert result.exit_code == 0, result.stderr
    [warning] = warnings(result.stderr)
    assert "stopped reading" in warning.group(2)
    second = bytes(server.records[1].wait_finished().audio)
    assert pcm.endswith(second) and len(second) >= len(pcm) - len(server.records[0].audio)


def test_retries_from_the_config_file_and_a_bad_one_refused(make_server, talk, audio_file,
                                                            tmp_path):
    cut = talk.truth[1][0] + CUT_INTO_TWO
    server = make_server(scripts(talk, cut))
    config = tmp_path / "config.toml"
    config.write_text("retries = 0\n")
    with Proxy(server.port, [Fault(cut, "code", 1011)]) as proxy:
        result = run(proxy, audio_file, "--speed", "8", env={"ASRX_CONFIG": str(config)})
        connections = proxy.connections
    assert result.exit_code == 5 and connections == 1
    config.write_text('retries = "many"\n')
    result = run(proxy, audio_file, env={"ASRX_CONFIG": str(config)})
    assert result.exit_code == 2 and "retries" in result.stderr
