"""Real speech through `asrx serve` and a proxy that cuts: the transcript survives.

The utterances are the standard ones (tests/utterances.py) with pauses
between them; a run with three cuts is held against the same audio
undisturbed, through the same server.
"""

import json
import subprocess
import time

import pytest

from tests.support.run import json_lines, run_asrx, start_asrx, subprocess_env
from tests.support.serving import server_fixture
from tests.support.speech import (
    GOFORWARD,
    GOFORWARD_TEXT,
    SOMETHING,
    SOMETHING_TEXT,
    librivox_transcripts,
    needs_testdata,
    read_pcm,
    silence,
    word_error_rate,
)
from tests.support.tcp_proxy import Fault, Proxy
from tests.support.utterances import STANDARD_SILENCES, layout, recording

pytestmark = needs_testdata

KEY = "reconnect-key-5e1"


server = server_fixture("server", api_keys=frozenset({KEY}),
                        limits=dict(close_wait=1.0, idle_timeout=1.0))


@pytest.fixture(scope="module")
def talk():
    # Recordings with their true words (71 of them): two points of word error rate are more
    # than one word, so the sentence heard again by a fresh session may differ by a word.
    utterances = [recording(GOFORWARD, GOFORWARD_TEXT), recording(SOMETHING, SOMETHING_TEXT)]
    utterances += [recording(path, text) for path, text in sorted(librivox_transcripts().items())]
    return layout(utterances, (STANDARD_SILENCES * 2)[:len(utterances) + 1])


def asrx(url: str, *args, stdin=None, timeout: float = 120) -> subprocess.CompletedProcess:
    return run_asrx("transcribe", "--url", url, *args, input=stdin, timeout=timeout,
                    env=subprocess_env(ASRX_API_KEY=KEY))


def finals(events):
    return [event for event in events if event["type"] == "final"]


def test_three_cuts_lose_no_sentence_and_repeat_none(server, talk, tmp_path):
    path = tmp_path / "talk.raw"
    path.write_bytes(talk.pcm)
    with Proxy(server.port) as proxy:
        calm = asrx(proxy.url(), path, "--json", "--speed", "3")
    assert calm.returncode == 0, calm.stderr
    calm_finals = finals(json_lines(calm.stdout.decode()))
    # Cuts inside the fourth utterance, in the pause after the fifth and inside the sixth, each in
    # its own way. Each connection counts its own audio, from about where asrx replays.
    (fourth, _), (fifth, fifth_end), (sixth, _) = talk.truth[3:6]
    faults = [Fault(fourth + 1.5, "code", 1011), Fault(fifth_end + 0.5 - fourth, "close"),
              Fault(sixth + 1.0 - fifth, "reset")]
    with Proxy(server.port, faults) as proxy:
        cut = asrx(proxy.url(), path, "--json", "--speed", "3", "--retry-delay", "0.05")
    assert cut.returncode == 0, cut.stderr
    events = json_lines(cut.stdout.decode())
    reconnects = [event for event in events if event["type"] == "reconnect"]
    assert len(reconnects) == 3 and cut.stderr.decode().count("reconnecting in") == 3
    cut_finals = finals(events)
    # Before the first cut the sessions were the same: the same sentences, word for word.
    before = finals(events[:events.index(reconnects[0])])
    assert [f["text"] for f in before] == [f["text"] for f in calm_finals[:len(before)]] and before
    # Numbering goes on as if nothing happened, and no sentence comes twice.
    assert [f["sentence"] for f in cut_finals] == list(range(len(cut_finals)))
    texts = [f["text"] for f in cut_finals]
    assert all(a != b for a, b in zip(texts, texts[1:]))
    assert all(f["start"] >= e["start"] for e, f in zip(cut_finals, cut_finals[1:]))
    # The words: within two points of the undisturbed run.
    reference = [" ".join(talk.texts).lower()]
    calm_wer = word_error_rate(reference, [" ".join(f["text"] for f in calm_finals)])
    cut_wer = word_error_rate(reference, [" ".join(texts)])
    assert cut_wer <= calm_wer + 0.02, (calm_wer, cut_wer, texts)


def test_a_stalled_pipe_outlives_the_servers_idle_limit(server):
    speech = read_pcm(GOFORWARD)
    process = start_asrx("transcribe", "--url", server.url, "-", "--json", stdin=subprocess.PIPE,
                         env=subprocess_env(ASRX_API_KEY=KEY))
    try:
        process.stdin.write(speech + silence(1.0))
        process.stdin.flush()
        first = process.stdout.readline()  # connected, and the server has heard the speech
        time.sleep(2.5)  # the pipe stalls longer than the server's idle limit (1 s)
        out, err = process.communicate(speech + silence(1.0), timeout=60)
        out = first + out
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0, err.decode()
    assert "error" not in err.decode() and "warning" not in err.decode(), err.decode()
    events = json_lines(out.decode())
    [idle] = [event for event in events if event["type"] == "reconnect"]
    assert (idle["attempt"], idle["code"]) == (0, 1008)  # the server's idle limit, no fault
    texts = [event["text"] for event in finals(events)]
    assert texts == ["go forward ten meters"] * 2, texts
    assert json.loads(out.decode().splitlines()[-1])["type"] == "final"
