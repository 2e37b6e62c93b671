"""A call recording through `asrx serve`: two espeak-ng voices, a channel each, partly at once.

The agent (en-us) says "go forward ten meters", the customer (en-us+f2, a
woman's voice) counts from one to seven, starting while the agent still
speaks. PocketSphinx hears "go forward" in the one and "one two three" in the
other, at 16 kHz and through 8 kHz μ-law alike; split, each channel's
transcript has its own words and none of the other's.
"""

import numpy as np
import pytest
import soundfile
import soxr

from asrx_cli.server.app import ServerThread
from asrx_cli.server.settings import Limits, ServerConfig
from tests.support.run import json_lines, run_cli
from tests.support.utterances import espeak, have_espeak

pytestmark = pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed")

KEY = "call-key-5e21"
AGENT_WORDS = {"go", "forward"}
CUSTOMER_WORDS = {"one", "two", "three"}


@pytest.fixture(scope="module")
def server():
    running = ServerThread(ServerConfig(port=0, api_keys=frozenset({KEY}),
                                        limits=Limits(close_wait=1.0))).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def call():
    """(agent, customer) int16 at 16 kHz, the customer starting 0.6 s into the agent's sentence."""
    agent = espeak("Go forward ten meters.", "en-us").samples
    customer = espeak("One two three four five six seven.", "en-us+f2").samples
    length = 8000 + max(len(agent), 9600 + len(customer)) + 8000
    stereo = np.zeros((length, 2), np.int16)
    stereo[8000:8000 + len(agent), 0] = agent
    stereo[17600:17600 + len(customer), 1] = customer
    assert 17600 < 8000 + len(agent)  # they talk at once for a while
    return stereo


def transcribe(server, path, *options):
    result = run_cli(["transcribe", "--url", server.url, "--speed", "0", *options, str(path)],
                     api_key=KEY)
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    return result.stdout


def finals_by_speaker(output):
    finals = {}
    for event in json_lines(output):
        if event["type"] == "final":
            finals.setdefault(event["speaker"], []).append(event)
    return finals


def words(finals):
    return {word for final in finals for word in final["text"].split()}


@pytest.mark.parametrize("rate, subtype", [(16000, "PCM_16"), (8000, "ULAW")])
def test_split_gives_each_channel_its_own_words_and_not_the_others(server, call, tmp_path, rate,
                                                                   subtype):
    stereo = call if rate == 16000 else soxr.resample(call, 16000, rate).astype(np.int16)
    path = tmp_path / "call.wav"
    soundfile.write(str(path), stereo, rate, subtype=subtype)
    finals = finals_by_speaker(transcribe(server, path, "--channels", "split",
                                          "--channel-names", "agent,customer", "--json"))
    agent, customer = words(finals["agent"]), words(finals["customer"])
    assert AGENT_WORDS <= agent and not CUSTOMER_WORDS & agent
    assert CUSTOMER_WORDS <= customer and not AGENT_WORDS & customer
    # Each channel's sentences are placed on its own speech: the agent from 0.5 s, the
    # customer from 1.1 s, while the agent still speaks.
    first = {speaker: events[0] for speaker, events in finals.items()}
    assert first["agent"]["timing"] == first["customer"]["timing"] == "speech"
    assert first["agent"]["start"] == pytest.approx(0.5, abs=0.15)
    assert first["customer"]["start"] == pytest.approx(1.1, abs=0.15)


def test_mix_is_the_transcript_of_the_channels_mixed_down(server, call, tmp_path):
    path = tmp_path / "call.wav"
    soundfile.write(str(path), call, 16000, subtype="PCM_16")
    mixed = tmp_path / "mixed.wav"
    # The client's downmix: the mean of the channels, rounded half to even.
    mean = np.rint(call.astype(np.float64).mean(axis=1)).astype(np.int16)
    soundfile.write(str(mixed), mean, 16000, subtype="PCM_16")
    assert transcribe(server, path, "--channels", "mix") == transcribe(server, mixed)


