"""Real speech as users have it, through `asrx serve` and a cutting proxy: nothing lost or repeated.

Four utterances (LibriVox and testdata recordings, an espeak-ng sentence)
under white noise at 10 and 0 dB, through a telephone line, and with music
under them (tests/support/degraded.py). In noise and music the server hears
one long sentence, and the client's detector hears speech everywhere: the
replay must hold on what the server said. Each run with cuts is held against
the undisturbed run, sentence by sentence; a sentence the engine decoded
again in a new session may honestly differ, so it is also held against what
the engine gives for it in a session that starts where the replay started.
"""

import random
import subprocess
import threading
import time
from typing import List, Optional, Tuple

import pytest

from tests.support.degraded import CONDITIONS, honest_ways, sentence_damage, sentences
from tests.support.run import json_lines, run_asrx, start_asrx, subprocess_env
from tests.support.serving import server_fixture
from tests.support.speech import GOFORWARD, LIBRIVOX, NUMBERS, SOMETHING, needs_testdata
from tests.support.tcp_proxy import Fault, Proxy
from tests.support.utterances import RATE, Layout, espeak, have_espeak, layout, recording

pytestmark = needs_testdata

KEY = "replay-key-7c2"
SPEED = "4"
# A loaded machine may take long to decode an unpaced pipe: the words count here, not the time.
RETRY = ["--retry-delay", "0.05", "--retries", "9", "--final-timeout", "60"]
CHUNK_SECONDS = 0.1  # a live producer writes this much at a time, at real time

server = server_fixture("server", api_keys=frozenset({KEY}),
                        limits=dict(close_wait=1.0, idle_timeout=5.0))


@pytest.fixture(scope="module")
def talk() -> Layout:
    utterances = [recording(GOFORWARD, "go forward ten meters"),
                  recording(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0930.wav",
                            "he might even have been made amiable himself"),
                  recording(SOMETHING, "go somewhere and do something")]
    utterances.append(espeak("Please call me back tomorrow morning.") if have_espeak()
                      else recording(NUMBERS, "numbers"))
    return layout(utterances, [0.8, 1.0, 1.1, 0.9, 1.0])


def cuts(kind: str, truth: List[Tuple[float, float]], seed: int) -> List[Optional[Fault]]:
    """Faults at random points of a kind; each counts its own connection's audio, which starts
    where the replay does, at the earliest at the start of the sentence open at the cut."""
    pick = random.Random(seed)
    (first, first_end), (second, second_end) = truth[:2]
    # Right after a final: the second sentence's first words have just closed the first.
    after_a_final = Fault(second + pick.uniform(0.3, 0.6), "reset")
    if kind == "during the first sentence, then right after a final":  # both from the start
        return [Fault(pick.uniform(first + 0.3, first_end - 0.2), "close"), after_a_final]
    if kind == "mid-sentence":
        return [Fault(pick.uniform(second + 0.5, second_end - 0.3), "code", 1011)]
    assert kind == "quick succession"
    return [Fault(pick.uniform(second, second_end), "code", 1011),
            Fault(pick.uniform(0.5, 1.0), "reset"), Fault(pick.uniform(0.5, 1.5), "close")]


def transcribe(url: str, path, source: str, *options) -> subprocess.CompletedProcess:
    """`asrx transcribe --json` of the audio: a file at --speed, a fast pipe, or a live pipe."""
    args = ["transcribe", "--url", url, "--json", *RETRY, *options]
    env = subprocess_env(ASRX_API_KEY=KEY)
    if source == "file":
        return run_asrx(*args, path, "--speed", SPEED, env=env)
    if source == "fast pipe":
        return run_asrx(*args, "-", input=path.read_bytes(), env=env)
    assert source == "live pipe"
    process = start_asrx(*args, "-", stdin=subprocess.PIPE, env=env)
    writer = threading.Thread(target=live, args=(process.stdin, path.read_bytes()))
    writer.start()
    try:
        writer.join()  # the output of so short a run fits in the pipes meanwhile
        out, err = process.communicate(timeout=120)  # which ends the input
    finally:
        process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def live(pipe, pcm: bytes):
    """Write the audio at real time, as a recorder does."""
    step, started = int(CHUNK_SECONDS * RATE) * 2, time.monotonic()
    try:
        for n, offset in enumerate(range(0, len(pcm), step)):
            time.sleep(max(0.0, started + n * CHUNK_SECONDS - time.monotonic()))
            pipe.write(pcm[offset:offset + step])
            pipe.flush()
    except BrokenPipeError:
        pass


CALM: dict = {}
CASES = [  # (condition, cuts, input): each cut kind and each input in at least one condition
    ("noise 10 dB", "mid-sentence", "file"),
    ("noise 0 dB", "quick succession", "fast pipe"),
    ("telephone", "during the first sentence, then right after a final", "fast pipe"),
    ("music", "quick succession", "file"),
    ("music", "mid-sentence", "live pipe"),
]


@pytest.mark.parametrize("condition, kind, source", CASES,
                         ids=[f"{c}, {k}, {s}".replace(" ", "-") for c, k, s in CASES])
def test_cuts_in_degraded_speech_lose_no_word_and_repeat_none(server, talk, tmp_path, condition,
                                                              kind, source):
    pcm = CONDITIONS[condition](talk.pcm)
    path = tmp_path / "talk.raw"
    path.write_bytes(pcm)
    if condition not in CALM:  # the undisturbed run, once for each condition
        calm = transcribe(server.url, path, "file")
        CALM[condition] = sentences(json_lines(calm.stdout.decode()))
    calm = CALM[condition]
    faults = cuts(kind, talk.truth, seed=len(condition) + len(kind))
    with Proxy(server.port, faults) as proxy:
        result = transcribe(proxy.url(), path, source)
    assert result.returncode == 0, result.stderr.decode()
    events = json_lines(result.stdout.decode())
    assert sum(event["type"] == "reconnect" for event in events) == len(faults)
    cut = sentences(events)
    lost, repeated = sentence_damage(honest_ways(server.url, KEY, pcm, calm, events), cut)
    assert (lost, repeated) == (0, 0), (calm, cut, result.stderr.decode())
    assert [e["sentence"] for e in events if e["type"] == "final"] == list(range(len(cut)))
