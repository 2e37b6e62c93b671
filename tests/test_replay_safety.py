"""The replay after a lost connection, where the speech detector is blind or unsure.

Tone bursts stand for sentences (tests/support/bursts.py): the scripted
server names each after how much of it that connection heard, so a replay
that starts late changes the words and one that starts early repeats a
sentence. The detector hears no speech in most of them: the replay must hold
on what the server said. Each run through the cutting proxy is held against
the names a full hearing gives, which an undisturbed run prints.
"""

import pytest

from tests.support.bursts import BurstListener, bursts
from tests.support.run import json_lines, run_cli
from tests.support.scripted import Script
from tests.support.tcp_proxy import Fault, Proxy

FAST = ["--speed", "8", "--retry-delay", "0.05"]
# (word, seconds, pause after): long and short sentences, short and long pauses.
PLAN = [(1, 3.0, 0.8), (2, 5.0, 0.6), (3, 1.5, 1.2), (4, 4.0, 0.5), (5, 2.0, 0.9), (6, 2.5, 1.0)]


def run(proxy, path, *args):
    return run_cli(["transcribe", "--url", proxy.url(), str(path), "--json", *FAST, *map(str, args)])


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
