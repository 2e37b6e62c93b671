"""Cue times against the true speech boundaries of real utterances.

The audio is real speech laid out with known silences (tests/utterances.py).
A scripted server answers every utterance 300-800 ms late, as a real one
does; `asrx serve` answers as its engine hears. Either way each cue must
start within 150 ms of its utterance's true onset and end within 250 ms of
its true offset, where cues from arrival times are off by the server's delay;
or, where the text needs longer to be read (17 characters a second, 5/6 s at
least), within 250 ms of when reading it ends, before the next speech.
"""


import numpy as np
import pysubs2
import pytest
import soundfile

from asrx_cli.output.subtitles import reading_time
from asrx_cli.server.process import ServeProcess
from tests.support.run import json_lines, run_cli, run_transcribe
from tests.support.scripted import Script, late_script
from tests.support.speech import needs_testdata
from tests.support.utterances import Utterance, layout, standard_layout, standard_utterances

pytestmark = needs_testdata

START_TOLERANCE = 0.150
END_TOLERANCE = 0.250
SPEED = 4  # audio seconds per wall second: the scripted server counts audio, not time


@pytest.fixture(scope="module")
def speech_layout():
    return standard_layout()


@pytest.fixture(scope="module")
def speech_file(speech_layout, tmp_path_factory):
    path = tmp_path_factory.mktemp("timing") / "utterances.wav"
    soundfile.write(str(path), np.frombuffer(speech_layout.pcm, "<i2"), 16000, subtype="PCM_16")
    return path


def cue_errors(cues, truth):
    assert len(cues) == len(truth), [(c.start, c.end, c.text) for c in cues]
    starts = [cue.start / 1000 - onset for cue, (onset, _) in zip(cues, truth)]
    following = [onset for onset, _ in truth[1:]] + [float("inf")]
    read = [min(max(offset, onset + reading_time(cue.plaintext)), after)
            for cue, (onset, offset), after in zip(cues, truth, following)]
    ends = [cue.end / 1000 - end for cue, end in zip(cues, read)]
    return starts, ends


def test_cues_sit_on_the_speech_despite_a_late_server(make_server, speech_layout, speech_file,
                                                      tmp_path):
    server = make_server(late_script(speech_layout.truth, speech_layout.texts))
    output = tmp_path / "out.srt"
    result = run_transcribe(server, speech_file, "--speed", SPEED, "-o", output)
    assert result.exit_code == 0, result.stderr
    cues = pysubs2.load(str(output)).events
    assert [cue.plaintext.replace("\n", " ") for cue in cues] == speech_layout.texts
    starts, ends = cue_errors(cues, speech_layout.truth)
    assert max(map(abs, starts)) <= START_TOLERANCE, starts
    assert max(map(abs, ends)) <= END_TOLERANCE, ends


@pytest.fixture(scope="module")
def serve():
    with ServeProcess("--api-key", "timing-key") as server:
        yield server


def test_cues_from_asrx_serve_sit_on_the_speech(serve, speech_layout, speech_file, tmp_path):
    output = tmp_path / "out.vtt"
    result = run_cli(["transcribe", "--url", serve.url, str(speech_file), "--speed", str(SPEED),
                      "-o", str(output)], api_key="timing-key")
    assert result.exit_code == 0, result.stderr
    cues = pysubs2.load(str(output)).events
    starts, ends = cue_errors(cues, speech_layout.truth)
    assert max(map(abs, starts)) <= START_TOLERANCE, starts
    assert max(map(abs, ends)) <= END_TOLERANCE, ends


def onset_errors(events, truth):
    """For each final: how far its start is from its own utterance's onset, or None if on
    arrival."""
    finals = [event for event in events if event["type"] == "final"]
    assert len(finals) == len(truth)
    assert all(final["end"] > final["start"] for final in finals if final["timing"] == "speech")
    return [final["start"] - onset if final["timing"] == "speech" else None
            for final, (onset, _) in zip(finals, truth)]


@pytest.fixture(scope="module")
def burst_layout():
    """0.4 s of loud noise, then the standard utterances."""
    burst = Utterance("noise", "", np.random.default_rng(5).normal(0, 6000, 6400).astype(np.int16))
    utterances = [burst] + standard_utterances()
    return layout(utterances, [0.8, 1.0] + [1.0] * (len(utterances) - 1))


def test_a_burst_of_noise_first_shifts_no_sentence(make_server, burst_layout, tmp_path):
    audio = tmp_path / "burst.wav"
    soundfile.write(str(audio), np.frombuffer(burst_layout.pcm, "<i2"), 16000, subtype="PCM_16")
    server = make_server(late_script(burst_layout.truth[1:], burst_layout.texts[1:]))
    result = run_transcribe(server, audio, "--speed", SPEED, "--json", "--no-partials")
    assert result.exit_code == 0, result.stderr
    errors = onset_errors(json_lines(result.stdout), burst_layout.truth[1:])
    assert all(error is not None and abs(error) <= START_TOLERANCE for error in errors), errors


def test_a_server_5_s_late_keeps_arrival_times_rather_than_the_next_sentences_speech(
        make_server, speech_layout, speech_file):
    on_time = late_script(speech_layout.truth, speech_layout.texts)
    server = make_server(Script(timed=[(at + 5.0, message) for at, message in on_time.timed]))
    result = run_transcribe(server, speech_file, "--speed", "1", "--json", "--no-partials")
    assert result.exit_code == 0, result.stderr
    errors = onset_errors(json_lines(result.stdout), speech_layout.truth)
    assert all(error is None or abs(error) <= START_TOLERANCE for error in errors), errors
    assert errors.count(None) >= len(errors) - 1
