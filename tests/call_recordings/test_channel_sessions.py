"""--channels split against a scripted server: what a split run keeps, survives and ends with.

The server answers each session with what it heard: "left", "right" or
"mixed" as the audio it received is (the start of) the left channel, the
right one, or neither.
"""

import signal
import subprocess

import numpy as np
import pytest
import soundfile

from tests.support.audio import noise, write_audio
from tests.support.calls import STEREO_SECONDS, channel_bytes, heard
from tests.support.microphone import MICROPHONE_REQUIREMENTS
from tests.support.run import (
    json_lines,
    run_asrx,
    run_cli,
    run_transcribe,
    start_asrx,
    subprocess_env,
    wait_for,
)
from tests.support.scripted import Script, new_sentence, sentence
from tests.support.tcp_proxy import Fault, Proxy
from tests.support.terminal import read_line


def test_save_audio_keeps_both_channels_and_stats_count_each_and_all(make_server, tmp_path, stereo):
    path = write_audio(tmp_path / "call.wav", stereo, 16000, subtype="PCM_16")
    server = make_server(heard(channel_bytes(stereo)))
    saved = tmp_path / "sent.wav"
    result = run_transcribe(server, "--speed", "0", "--channels", "split",
                            "--channel-names", "agent,customer",
                            "--save-audio", saved, "--stats", "--json", path)
    assert result.exit_code == 0, result.stderr
    kept, rate = soundfile.read(str(saved), dtype="int16")
    assert rate == 16000 and np.array_equal(kept, stereo)
    stats = [event for event in json_lines(result.stdout) if event["type"] == "stats"]
    assert [(s.get("speaker"), s["sentences"], s["audio_seconds"]) for s in stats] == [
        ("agent", 1, STEREO_SECONDS), ("customer", 1, STEREO_SECONDS), (None, 2, STEREO_SECONDS)]
    assert stats[-1]["channels"] == 2
    for heading in ("stats, channel agent", "stats, channel customer", "stats, all channels"):
        assert f"asrx: {heading}\n" in result.stderr


def test_a_refused_key_ends_every_channel_with_status_4(make_server, tmp_path, stereo):
    path = write_audio(tmp_path / "call.wav", stereo, 16000, subtype="PCM_16")
    server = make_server()
    result = run_transcribe(server, "--channels", "split", path, api_key="wrong")
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_one_channel_dropped_reconnects_alone_while_the_other_goes_on(make_server, tmp_path):
    samples = noise(4.0, channels=2, seed=9)
    path = write_audio(tmp_path / "call.wav", samples, 16000, subtype="PCM_16")
    left, right = channel_bytes(samples)

    def answer(record):
        audio = bytes(record.audio)
        return [new_sentence("left" if audio == left else "right" if audio == right else "mixed")]

    server = make_server(Script(answer=answer))
    with Proxy(server.port, [Fault(1.0, "reset")]) as proxy:
        result = run_cli(["transcribe", "--url", proxy.url(), "--speed", "4", "--retry-delay", "0",
                          "--channels", "split", "--channel-names", "agent,customer", path])
    assert result.exit_code == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == ["agent: left", "customer: right"]
    sessions = [sum(1 for record in server.records if channel.startswith(bytes(record.audio)))
                for channel in (left, right)]
    assert sorted(sessions) == [1, 2]  # the cut channel had a second session, the other one only
    cut = server.records[0]  # the first connection, the one the proxy cut
    assert 0 < cut.seconds < 4.0


@pytest.mark.parametrize("signal_number, status, said", [
    (signal.SIGINT, 130, "asrx: interrupted after "),
    (signal.SIGTERM, 143, "asrx: terminated after "),
])
def test_ctrl_c_or_sigterm_ends_every_channel_and_prints_each_ones_last_sentence(
        make_server, tmp_path, signal_number, status, said):
    server, process, first = start_call(make_server, tmp_path)
    process.send_signal(signal_number)
    out, err = process.communicate(timeout=20)
    assert process.returncode == status, err
    lines = sorted((first + out).decode().splitlines())
    assert lines == ["agent: going", "agent: left last", "agent: started",
                     "customer: going", "customer: right last", "customer: started"]
    assert err.decode().startswith(said) and b"Traceback" not in err
    assert len(server.records) == 2
    assert all(record.wait_finished().end_of_stream is not None for record in server.records)
    assert all(record.seconds < 10 for record in server.records)


def start_call(make_server, tmp_path, seconds=20.0):
    """asrx on a call of two noises, whose sessions each say "started", then "going", then
    at the end "<left|right> last"; the first line already read."""
    samples = noise(seconds, channels=2, seed=11)
    path = write_audio(tmp_path / "call.wav", samples, 16000, subtype="PCM_16")
    left, right = channel_bytes(samples)

    def answer(record):
        audio = bytes(record.audio)
        name = "left" if left.startswith(audio) else "right" if right.startswith(audio) else "mixed"
        return [new_sentence(f"{name} last")]

    server = make_server(Script(timed=[(0.2, sentence("started")), (0.4, new_sentence("going"))],
                                answer=answer))
    process = start_asrx("transcribe", "--url", server.url, "--channels", "split",
                         "--channel-names", "agent,customer", path)
    first = read_line(process.stdout)
    assert first.endswith(b": started\n")
    return server, process, first


def test_a_second_ctrl_c_ends_every_channel_at_once_keeping_what_was_printed(make_server,
                                                                            tmp_path):
    samples = noise(20.0, channels=2, seed=11)
    path = write_audio(tmp_path / "call.wav", samples, 16000, subtype="PCM_16")
    # The server names a sentence each channel, then never answers the end of the stream.
    server = make_server(Script(timed=[(0.2, sentence("started")), (0.4, new_sentence("going"))],
                                end_marker=None))
    process = start_asrx("transcribe", "--url", server.url, "--channels", "split",
                         "--channel-names", "agent,customer", path)
    first = read_line(process.stdout)
    wait_for(lambda: all(record.end_of_stream is None for record in server.records)
             and len(server.records) == 2)
    process.send_signal(signal.SIGINT)
    wait_for(lambda: all(record.end_of_stream is not None for record in server.records))
    process.send_signal(signal.SIGINT)  # while every channel waits for its end marker
    out, err = process.communicate(timeout=10)
    assert process.returncode == 130, err
    assert b"Traceback" not in err and err.decode().count("\n") == 1
    lines = set((first + out).decode().splitlines())
    assert {"agent: started", "customer: started"} <= lines  # printed before: still there
    assert lines <= {"agent: started", "customer: started", "agent: going", "customer: going"}


def test_a_batch_splits_each_file_and_counts_it_as_one_item(make_server, tmp_path, stereo):
    calls = tmp_path / "calls"
    calls.mkdir()
    for name in ("a", "b"):
        write_audio(calls / f"{name}.wav", stereo, 16000, subtype="PCM_16")
    server = make_server(heard(channel_bytes(stereo)))
    out = tmp_path / "out"
    result = run_transcribe(server, "--speed", "0", "--channels", "split", "--jobs", "2",
                            "--channel-names", "agent,customer", "--output-dir", out, calls)
    assert result.exit_code == 0, result.stderr
    assert "2 transcribed" in result.stderr
    left, right = channel_bytes(stereo)
    for name in ("a", "b"):
        lines = sorted((out / f"{name}.txt").read_text().splitlines())
        assert lines == [f"agent: left {len(left)}", f"customer: right {len(right)}"]
    assert len(server.records) == 4


def test_a_silent_channel_gives_no_sentences_and_no_error(make_server, tmp_path):
    samples = np.zeros((16000, 2), np.int16)
    samples[:, 0] = noise(1.0)
    path = write_audio(tmp_path / "call.wav", samples, 16000, subtype="PCM_16")

    def answer(record):
        return [new_sentence("words")] if any(record.audio) else []

    server = make_server(Script(answer=answer))
    result = run_transcribe(server, "--speed", "0", "--channels", "split", "--format", "vtt", path)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith("WEBVTT\n\n1\n") and result.stdout.endswith("\n<v 1>words\n\n")
    assert result.stdout.count(" --> ") == 1


class EverySecond:
    """Opens a sentence at each second of audio heard, unless the audio is all silence."""

    def __init__(self):
        self.audio = bytearray()

    def __call__(self, frame: bytes):
        before = len(self.audio) // 32000
        self.audio += frame
        second = len(self.audio) // 32000
        if second == before or not any(self.audio):
            return []
        return [(new_sentence if second > 1 else sentence)(f"s{second}")]


def test_subtitles_flow_while_a_channel_is_silent(make_server, tmp_path):
    # A live input (a pipe kept open): cues of the speaking channel reach the file
    # while the other channel has said nothing, not only once the run ends.
    samples = np.zeros((12 * 16000, 2), np.int16)
    samples[:, 0] = noise(12.0, seed=4)
    server = make_server(Script(listener=EverySecond))
    out = tmp_path / "call.srt"
    process = start_asrx("transcribe", "--url", server.url, "--channels", "split",
                         "--raw-channels", "2", "-o", out, "-", stdin=subprocess.PIPE)
    try:
        process.stdin.write(samples.astype("<i2").tobytes())
        process.stdin.flush()
        wait_for(lambda: out.exists() and "1: s1\n" in out.read_text(), timeout=20)
        assert process.poll() is None  # the input is still open: the run goes on
    finally:
        _, err = process.communicate(timeout=20)  # the end of the input
    assert process.returncode == 0, err
    cues = [block.split("\n") for block in out.read_text().strip().split("\n\n")]
    assert [cue[2] for cue in cues] == [f"1: s{n}" for n in range(1, 13)]


STEREO_DEVICE = """\
pcm.asrx_stereo_file {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{infile}"
    format "raw"
}}
pcm.asrx_stereo {{
    type plug
    slave {{ pcm "asrx_stereo_file" channels 2 rate 16000 format S16_LE }}
}}
"""


def needs_microphone(test):
    for requirement in MICROPHONE_REQUIREMENTS:
        test = requirement(test)
    return test


@needs_microphone
def test_a_stereo_microphone_is_split_into_a_session_per_channel(make_server, tmp_path, stereo):
    # An ALSA device of two channels that plays `stereo` (see tests/test_microphone.py).
    (tmp_path / "stereo.raw").write_bytes(stereo.astype("<i2").tobytes())
    (tmp_path / ".asoundrc").write_text(STEREO_DEVICE.format(infile=tmp_path / "stereo.raw"))
    left, right = channel_bytes(stereo)
    server = make_server(heard((left, right)))
    result = run_asrx("transcribe", "--url", server.url, "--mic", "--device", "asrx_stereo",
                      "--duration", "1", "--channels", "split", "--channel-names", "agent,customer",
                      env=subprocess_env(HOME=str(tmp_path)), text=True, timeout=30)
    assert (result.returncode, result.stderr) == (0, "")
    assert sorted(result.stdout.splitlines()) == ["agent: left 32000", "customer: right 32000"]


def test_one_channel_refused_ends_the_other_too(make_server, tmp_path, stereo):
    path = write_audio(tmp_path / "call.wav", stereo, 16000, subtype="PCM_16")
    server = make_server([Script(at_end=[new_sentence("kept")]), Script(reject_status=401)])
    result = run_transcribe(server, "--channels", "split", path)
    assert result.exit_code == 4, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert result.stdout in ("", "1: kept\n", "2: kept\n")  # what the other channel got is kept
