"""--channels split against a scripted server: a session per channel, each with its own audio.

The server answers each session with what it heard: "left", "right" or
"mixed" as the audio it received is (the start of) the left channel, the
right one, or neither, so a transcript line says which audio reached which
session.
"""

import io

import pytest
import soundfile

from tests.support.audio import noise, write_audio
from tests.support.calls import channel_bytes, heard
from tests.support.run import (
    json_lines,
    run_transcribe,
)
from tests.support.scripted import Script, new_sentence, sentence


def test_each_session_receives_exactly_the_samples_of_its_channel(make_server, tmp_path, stereo):
    path = write_audio(tmp_path / "call.wav", stereo, 16000, subtype="PCM_16")
    left, right = channel_bytes(stereo)
    server = make_server(heard((left, right)))
    result = run_transcribe(server, "--speed", "0", "--channels", "split", path)
    assert (result.exit_code, result.stderr) == (0, "")
    assert sorted(result.stdout.splitlines()) == [f"1: left {len(left)}", f"2: right {len(right)}"]
    assert sorted(bytes(record.audio) for record in server.records) == sorted([left, right])


@pytest.mark.parametrize("subtype", ["ULAW", "ALAW"])
def test_a_telephone_wav_at_8_khz_goes_out_a_channel_at_a_time_converted_alone(
        make_server, tmp_path, stereo, subtype):
    stereo8k = stereo[::2]
    path = write_audio(tmp_path / "call.wav", stereo8k, 8000, subtype=subtype)
    # What each channel alone, as a mono file, would send: the split must send just that.
    alone = []
    for index in range(2):
        samples = soundfile.read(str(path), dtype="int16")[0][:, index]
        mono = write_audio(tmp_path / f"ch{index}.wav", samples, 8000, subtype=subtype)
        single = make_server()
        assert run_transcribe(single, "--speed", "0", mono).exit_code == 0
        alone.append(bytes(single.record.audio))
    server = make_server(heard(alone))
    result = run_transcribe(server, "--speed", "0", "--channels", "split",
                            "--channel-names", "agent,customer", path)
    assert result.exit_code == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == [f"agent: left {len(alone[0])}",
                                                  f"customer: right {len(alone[1])}"]


def test_mix_is_one_session_of_both_channels(make_server, tmp_path, stereo):
    path = write_audio(tmp_path / "call.wav", stereo, 16000, subtype="PCM_16")
    server = make_server(heard(channel_bytes(stereo)))
    result = run_transcribe(server, "--speed", "0", path)
    assert (result.exit_code, result.stdout) == (0, "mixed\n")
    assert len(server.records) == 1


def test_a_mono_input_with_split_is_one_session_as_today(make_server, tmp_path):
    path = write_audio(tmp_path / "mono.wav", noise(1.0), 16000, subtype="PCM_16")
    server = make_server(Script(at_end=[new_sentence("hello")]))
    result = run_transcribe(server, "--speed", "0", "--channels", "split", path)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "hello\n", "")
    assert len(server.records) == 1


CUE_TEXT = {"srt": ["agent: {0}", "customer: {1}"], "vtt": ["<v agent>{0}", "<v customer>{1}"]}


@pytest.mark.parametrize("output_format", ["text", "json", "raw", "srt", "vtt"])
def test_every_format_labels_each_channel(make_server, tmp_path, stereo, output_format):
    path = write_audio(tmp_path / "call.wav", stereo, 16000, subtype="PCM_16")
    left, right = channel_bytes(stereo)
    server = make_server(heard((left, right)))
    result = run_transcribe(server, "--speed", "0", "--channels", "split",
                            "--channel-names", "agent,customer", "--format", output_format, path)
    assert (result.exit_code, result.stderr) == (0, "")
    words = f"left {len(left)}", f"right {len(right)}"
    if output_format == "text":
        assert sorted(result.stdout.splitlines()) == [f"agent: {words[0]}", f"customer: {words[1]}"]
    elif output_format == "json":
        finals = sorted((e["channel"], e["speaker"], e["text"], e["sentence"])
                        for e in json_lines(result.stdout) if e["type"] == "final")
        assert finals == [(0, "agent", words[0], 0), (1, "customer", words[1], 0)]
        assert all({"channel", "speaker"} <= set(e) for e in json_lines(result.stdout))
    elif output_format == "raw":
        lines = sorted(result.stdout.splitlines())
        assert lines[0].startswith("agent: {") and f'"{words[0]}"' in lines[0]
        assert any(line.startswith("customer: {") and f'"{words[1]}"' in line for line in lines)
    else:
        text = result.stdout.removeprefix("WEBVTT\n\n") if output_format == "vtt" else result.stdout
        cues = [block.split("\n") for block in text.strip().split("\n\n")]
        assert [cue[0] for cue in cues] == ["1", "2"] and all(" --> " in cue[1] for cue in cues)
        expected = [line.format(*words) for line in CUE_TEXT[output_format]]
        assert sorted(cue[2] for cue in cues) == expected


def test_subtitle_cues_are_sorted_across_channels_and_never_overlap_within_one(make_server,
                                                                              tmp_path):
    path = write_audio(tmp_path / "call.wav", noise(3.0, channels=2), 16000, subtype="PCM_16")
    left, right = channel_bytes(noise(3.0, channels=2))

    def answer(record):
        if left.startswith(bytes(record.audio)):  # left: three short sentences
            return []
        return [new_sentence("right long")]

    server = make_server(Script(timed=[(0.5, sentence("a")), (1.0, new_sentence("b")),
                                       (1.5, new_sentence("c"))], answer=answer))
    result = run_transcribe(server, "--speed", "0", "--channels", "split", "--format", "srt", path)
    assert result.exit_code == 0, result.stderr
    cues = [block.split("\n") for block in result.stdout.strip().split("\n\n")]
    assert [cue[0] for cue in cues] == [str(n) for n in range(1, len(cues) + 1)]
    starts = [cue[1].split(" --> ")[0] for cue in cues]
    assert starts == sorted(starts)
    for label in ("1: ", "2: "):
        times = [cue[1].split(" --> ") for cue in cues if cue[2].startswith(label)]
        assert all(earlier[1] <= later[0] for earlier, later in zip(times, times[1:]))
    assert any(cue[2] == "2: right long" for cue in cues)


def test_names_that_do_not_match_the_channels_are_a_usage_error(make_server, tmp_path, stereo):
    path = write_audio(tmp_path / "call.wav", stereo, 16000, subtype="PCM_16")
    server = make_server()
    result = run_transcribe(server, "--channels", "split", "--channel-names", "a,b,c", path)
    assert (result.exit_code, result.stdout) == (2, "")
    assert "3 names (a,b,c)" in result.stderr and "2 channels" in result.stderr
    assert server.records == []


def test_names_without_split_are_a_usage_error(server, tmp_path, stereo):
    path = write_audio(tmp_path / "call.wav", stereo, 16000, subtype="PCM_16")
    result = run_transcribe(server, "--channel-names", "a,b", path)
    assert result.exit_code == 2
    assert "--channel-names applies to --channels split only" in result.stderr


def test_the_environment_and_the_config_file_choose_split(make_server, tmp_path, stereo):
    path = write_audio(tmp_path / "call.wav", stereo, 16000, subtype="PCM_16")
    server = make_server(heard(channel_bytes(stereo)))
    environment = {"ASRX_CHANNELS": "split", "ASRX_CHANNEL_NAMES": "agent,customer"}
    result = run_transcribe(server, "--speed", "0", path, env=environment)
    labels = sorted(line.split(":")[0] for line in result.stdout.splitlines())
    assert labels == ["agent", "customer"]
    config = tmp_path / "config.toml"
    config.write_text('channels = "split"\nchannel_names = "a,b"\n')
    result = run_transcribe(server, "--speed", "0", path, env={"ASRX_CONFIG": str(config)})
    assert sorted(line.split(":")[0] for line in result.stdout.splitlines()) == ["a", "b"]


@pytest.mark.parametrize("names, labels", [
    ('["agent", "customer, east"]', ["agent", "customer, east"]),  # a list: each string whole
    ('"agent, customer"', ["agent", "customer"]),  # a string: split at its commas
])
def test_the_config_file_names_the_channels_in_a_list_or_a_string(make_server, tmp_path, stereo,
                                                                  names, labels):
    path = write_audio(tmp_path / "call.wav", stereo, 16000, subtype="PCM_16")
    server = make_server(heard(channel_bytes(stereo)))
    config = tmp_path / "config.toml"
    config.write_text(f'channels = "split"\nchannel_names = {names}\n')
    result = run_transcribe(server, "--speed", "0", path, env={"ASRX_CONFIG": str(config)})
    assert (result.exit_code, result.stderr) == (0, "")
    assert sorted(line.split(": ")[0] for line in result.stdout.splitlines()) == labels


def test_a_config_list_of_names_must_hold_strings(server, tmp_path, stereo):
    path = write_audio(tmp_path / "call.wav", stereo, 16000, subtype="PCM_16")
    config = tmp_path / "config.toml"
    config.write_text('channels = "split"\nchannel_names = ["agent", 2]\n')
    result = run_transcribe(server, path, env={"ASRX_CONFIG": str(config)})
    assert (result.exit_code, result.stdout) == (2, "")
    assert "channel_names has the wrong type" in result.stderr


def test_raw_stereo_on_stdin(make_server, stereo):
    left, right = channel_bytes(stereo)
    server = make_server(heard((left, right)))
    result = run_transcribe(server, "--channels", "split", "--raw-channels", "2", "-",
                            input=stereo.astype("<i2").tobytes())
    assert result.exit_code == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == [f"1: left {len(left)}", f"2: right {len(right)}"]


def test_a_wav_stream_on_stdin(make_server, stereo):
    left, right = channel_bytes(stereo)
    server = make_server(heard((left, right)))
    wav = io.BytesIO()
    soundfile.write(wav, stereo, 16000, subtype="PCM_16", format="WAV")
    result = run_transcribe(server, "--channels", "split", "-", input=wav.getvalue())
    assert result.exit_code == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == [f"1: left {len(left)}", f"2: right {len(right)}"]
