"""The replay after a lost connection, where the speech detector is blind or unsure.

Tone bursts stand for sentences (tests/support/bursts.py): the scripted
server names each after how much of it that connection heard, so a replay
that starts late changes the words and one that starts early repeats a
sentence. The detector hears no speech in most of them: the replay must hold
on what the server said. Each run through the cutting proxy is held against
the names a full hearing gives, which an undisturbed run prints.
"""


import pytest

from tests.support.bursts import PLAN, BurstListener, bursts
from tests.support.run import API_KEY, json_lines, pipe_to_asrx, run_cli, subprocess_env
from tests.support.scripted import Script
from tests.support.tcp_proxy import Fault, Proxy

FAST = ["--speed", "8", "--retry-delay", "0.05"]


def run(proxy, path, *args):
    return run_cli(["transcribe", "--url", proxy.url(), str(path), "--json", *FAST,
                    *map(str, args)])


def finals(result):
    assert result.exit_code == 0, result.stderr
    return [event["text"] for event in json_lines(result.stdout) if event["type"] == "final"]


@pytest.fixture
def burst_server(make_server):
    return make_server(Script(listener=BurstListener))


def audio(tmp_path, wobble=0.0):
    pcm, names = bursts(PLAN, wobble=wobble)
    path = tmp_path / "bursts.raw"
    path.write_bytes(pcm)
    return path, names


def test_an_undisturbed_run_names_every_burst_in_full(burst_server, tmp_path):
    path, names = audio(tmp_path)
    with Proxy(burst_server.port) as proxy:
        assert finals(run(proxy, path)) == names


CUTS = {
    "mid-sentence": [Fault(7.0, "code", 1011)],  # 2.7 s into a 5 s sentence
    "right-after-a-final": [Fault(10.0, "reset")],  # the next burst's first words just closed one
    "first-sentence": [Fault(2.0, "close")],
    "in-a-pause": [Fault(12.0, "code", 1011)],
    "every-4-s": [Fault(4.0, "code", 1011), Fault(4.0, "close")],
    "quick-succession": [Fault(7.0, "code", 1011), Fault(1.0, "reset"), Fault(1.5, "close"),
                         Fault(3.0, "code", 1012)],
}


@pytest.mark.parametrize("wobble", [0.0, 1.0], ids=["tones", "music-like"])
@pytest.mark.parametrize("cuts", CUTS.values(), ids=CUTS.keys())
def test_cuts_anywhere_lose_no_burst_and_repeat_none(burst_server, tmp_path, cuts, wobble):
    path, names = audio(tmp_path, wobble)
    with Proxy(burst_server.port, cuts) as proxy:
        result = run(proxy, path)
    assert finals(result) == names, result.stderr
    events = json_lines(result.stdout)
    assert len([event for event in events if event["type"] == "reconnect"]) == len(cuts)
    if cuts is not CUTS["every-4-s"]:  # there the first sentence's close comes after 4 s: it is cut
        assert "warning: the sentence" not in result.stderr  # nothing had to be cut


@pytest.mark.parametrize("cut", ["mid-sentence", "right-after-a-final", "first-sentence"])
def test_a_server_slow_before_the_cut_and_quick_after_it_loses_no_burst(make_server, tmp_path, cut):
    # The first connection's words come 0.1 s late each (a loaded server, a loaded client): sent
    # again, the open burst's first words come back far earlier than they came the first time.
    server = make_server([Script(listener=BurstListener, delay_replies=0.1),
                          Script(listener=BurstListener)])
    path, names = audio(tmp_path)
    with Proxy(server.port, CUTS[cut]) as proxy:
        result = run(proxy, path)
    assert finals(result) == names, result.stderr


def test_an_error_ends_the_run_at_once_while_the_stdin_pipe_is_silent(make_server):
    # The server refuses the audio (1003, never retried) while the pipe stays open and quiet: the
    # decoder thread waits on the pipe, and the run's one stop must reach it.
    server = make_server(Script(listener=BurstListener))
    pcm, _ = bursts([(1, 1.0, 0.2)])
    with Proxy(server.port, [Fault(0.5, "code", 1003)]) as proxy:
        status, err = pipe_to_asrx(pcm, "transcribe", "--url", proxy.url(), "-", "--json",
                                   env=subprocess_env(ASRX_API_KEY=API_KEY))
    assert status == 5, err
    assert "close code 1003" in err


def test_a_duration_shorter_than_one_sample_is_empty_audio(server, tmp_path):
    path, _ = audio(tmp_path)
    result = run_cli(["transcribe", "--url", server.url, str(path), "--duration", "0.00001"])
    assert result.exit_code == 3 and result.stdout == ""
    assert "no audio" in result.stderr and not server.records
