"""`asrx transcribe` through the real CLI against a real local WebSocket server."""


import numpy as np
import pytest
import soundfile
import soxr

from asrx_cli.stream.sender import SEND_AHEAD_SECONDS
from tests.support import API_KEY
from tests.support.audio import noise, snr_db, tones, write_audio
from tests.support.run import json_lines, run_cli, run_transcribe
from tests.support.scripted import CONFIRM_CLOSE, Script, new_sentence, sentence

THAI = Script(
    timed=[(0.2, sentence("สวัสดีครับ ")), (0.4, sentence("สวัสดีครับ ผมเสียงผู้ใหญ่ ")),
           (0.6, new_sentence("ผู้ชาย")), (0.8, sentence("ผู้ชายครับ "))],
)


def test_text_output_is_one_line_per_finished_sentence(make_server, speech_wav):
    server = make_server(THAI)
    result = run_transcribe(server, speech_wav, "--speed", "0")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "สวัสดีครับ ผมเสียงผู้ใหญ่\nผู้ชายครับ\n"
    assert result.stderr == ""


def test_the_server_receives_exact_pcm_key_and_end_of_stream(make_server, speech_wav):
    server = make_server(THAI)
    run_transcribe(server, speech_wav, "--speed", "0")
    record = server.record.wait_finished()
    assert bytes(record.audio) == soundfile.read(speech_wav, dtype="int16")[0].tobytes()
    assert record.headers["apikey"] == API_KEY
    assert record.path == "/asrx"
    assert set(record.frame_sizes[:-1]) == {1024} and 0 < record.frame_sizes[-1] <= 1024
    assert record.texts == ['{"data": {"status": "CloseConnection"}}']
    assert record.closed_by_client and record.close_code == 1000


def test_chunk_size_follows_chunk_ms(server, speech_wav):
    run_transcribe(server, speech_wav, "--speed", "0", "--chunk-ms", "20")
    assert set(server.record.frame_sizes) == {640}


def test_json_lines_schema(make_server, speech_wav):
    server = make_server(THAI)
    result = run_transcribe(server, speech_wav, "--json", "--speed", "0")
    assert result.exit_code == 0
    assert "สวัสดี" in result.stdout  # UTF-8, not \\u escapes
    events = json_lines(result.stdout)
    finals = [e for e in events if e["type"] == "final"]
    partials = [e for e in events if e["type"] == "partial"]
    assert [(e["sentence"], e["text"]) for e in finals] == [
        (0, "สวัสดีครับ ผมเสียงผู้ใหญ่"), (1, "ผู้ชายครับ")]
    assert [e["text"] for e in partials] == [
        "สวัสดีครับ", "สวัสดีครับ ผมเสียงผู้ใหญ่", "ผู้ชาย", "ผู้ชายครับ"]
    for final in finals:
        assert set(final) == {"type", "sentence", "text", "start", "end", "timing"}
        assert 0 <= final["start"] <= final["end"] <= 1.0
        assert final["timing"] in ("speech", "arrival")
    assert all(set(p) == {"type", "sentence", "text", "offset"} for p in partials)


def test_no_partials_leaves_only_finals(make_server, speech_wav):
    server = make_server(THAI)
    result = run_transcribe(server, speech_wav, "--json", "--no-partials", "--speed", "0")
    assert [e["type"] for e in json_lines(result.stdout)] == ["final", "final"]


def test_raw_format_prints_the_frames_as_they_came(make_server, speech_wav):
    server = make_server(Script(timed=[(0.1, sentence("a ")), (0.2, "not json at all")]))
    result = run_transcribe(server, speech_wav, "--format", "raw", "--speed", "0")
    assert result.stdout.splitlines() == [
        '{"type": "realtime", "state": "Sentence", "text": "a "}', "not json at all",
        '{"type": "realtime", "text": "end_of_process"}']


def test_output_file_takes_the_transcript(make_server, speech_wav, tmp_path):
    server = make_server(THAI)
    out = tmp_path / "out.txt"
    result = run_transcribe(server, speech_wav, "--speed", "0", "-o", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8") == "สวัสดีครับ ผมเสียงผู้ใหญ่\nผู้ชายครับ\n"


def test_resampled_flac_matches_a_reference_within_60_db(server, tmp_path):
    signal = tones(1.5, 44100, 2)
    path = write_audio(tmp_path / "music.flac", signal, 44100, format="FLAC")
    assert run_transcribe(server, path, "--speed", "0").exit_code == 0
    received = np.frombuffer(bytes(server.record.audio), dtype="<i2")
    decoded, _ = soundfile.read(path, dtype="float32")
    reference = soxr.resample(decoded.mean(axis=1), 44100, 16000) * 32768
    assert abs(len(received) - len(reference)) <= 2
    assert snr_db(reference, received) > 60


def test_stdin_raw_pcm(make_server):
    server = make_server(THAI)
    samples = noise(1.0)
    result = run_transcribe(server, "-", input=samples.tobytes())
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "ผู้ชายครับ"
    assert bytes(server.record.audio) == samples.tobytes()


def test_stdin_wav_header_is_parsed_and_stripped(server, tmp_path):
    samples = noise(1.0, rate=8000) // 2  # headroom: resampled noise overshoots
    path = write_audio(tmp_path / "a.wav", samples, 8000)
    with open(path, "rb") as stream:
        data = stream.read()
    assert run_transcribe(server, "-", input=data).exit_code == 0
    received = np.frombuffer(bytes(server.record.audio), dtype="<i2")
    assert len(received) == 16000  # 1 s at 16 kHz, header not sent as audio
    reference = soxr.resample(samples.astype(np.float32) / 32768, 8000, 16000) * 32768
    assert snr_db(reference, received) > 60


def test_stdin_raw_with_other_rate_and_channels(server):
    stereo = (tones(1.0, 22050, 2) * 32767).astype("<i2")
    result = run_transcribe(server, "-", "--raw-rate", "22050", "--raw-channels", "2",
                            input=stereo.tobytes())
    assert result.exit_code == 0
    assert abs(len(server.record.audio) - 32000) <= 4


def test_speed_one_paces_at_real_time(server, tmp_path):
    path = write_audio(tmp_path / "a.wav", noise(1.0), 16000)
    assert run_transcribe(server, path).exit_code == 0
    arrivals = server.record.arrivals
    # A lower bound only: frame 31 is due 0.992 s after frame 0, and no frame leaves more than
    # SEND_AHEAD_SECONDS before its time (it goes with frame 30, at 0.96 s).
    assert arrivals[-1] - arrivals[0] >= 0.992 - SEND_AHEAD_SECONDS - 0.01


def test_confirm_close_connection_marker_ends_the_session(make_server, speech_wav):
    server = make_server(Script(timed=[(0.5, sentence("done"))], end_marker=CONFIRM_CLOSE))
    result = run_transcribe(server, speech_wav, "--speed", "0")
    assert (result.exit_code, result.stdout) == (0, "done\n")


def test_unexpected_frames_are_ignored_and_noted_in_verbose(make_server, speech_wav):
    server = make_server(Script(timed=[(0.1, "<html>oops</html>"), (0.2, b"\x00\x01"),
                                       (0.3, {"type": "error", "message": "quota"}),
                                       (0.5, sentence("still here"))]))
    result = run_transcribe(server, speech_wav, "--speed", "0", "-v")
    assert result.exit_code == 0
    assert result.stdout == "still here\n"
    assert "ignored: not JSON" in result.stderr
    assert "ignored: binary frame" in result.stderr
    assert "ignored: unknown message" in result.stderr


def test_verbose_never_shows_the_key(make_server, speech_wav):
    server = make_server(THAI)
    result = run_transcribe(server, speech_wav, "--speed", "0", "-v")
    assert result.exit_code == 0
    assert "apikey: ****" in result.stderr
    assert '> {"data": {"status": "CloseConnection"}}' in result.stderr
    assert API_KEY not in result.stderr + result.stdout


def test_quiet_silences_warnings(speech_wav):
    result = run_cli(["transcribe", "--url", "ws://asrx-test.invalid/asrx", "-q", speech_wav])
    assert result.exit_code == 5
    assert "warning" not in result.stderr and result.stderr.startswith("asrx: error:")


# --- failures ---------------------------------------------------------------------------


def test_server_closing_mid_stream_without_retries_keeps_the_transcript(make_server, tmp_path):
    server = make_server(Script(timed=[(0.2, sentence("first")), (0.4, new_sentence("second"))],
                                close_after_seconds=0.5))
    path = write_audio(tmp_path / "a.wav", noise(3.0), 16000)
    result = run_transcribe(server, path, "--speed", "4", "--retries", "0")
    assert result.exit_code == 5
    assert result.stdout == "first\nsecond\n"
    assert ("the server closed the connection mid-stream (close code 1011, server going away)"
            in result.stderr)
    assert len(result.stderr.splitlines()) == 1


def test_missing_end_marker_times_out_and_keeps_the_transcript(make_server, speech_wav):
    server = make_server(Script(timed=[(0.5, sentence("kept"))], end_marker=None))
    result = run_transcribe(server, speech_wav, "--speed", "0", "--final-timeout", "0.5")
    assert result.exit_code == 5
    assert result.stdout == "kept\n"
    assert result.stderr == ("asrx: error: no end marker from the server within 0.5 s "
                             "of the end of the audio\n")


def test_server_closing_after_end_of_stream_without_marker(make_server, speech_wav):
    server = make_server(Script(timed=[(0.5, sentence("kept"))], end_marker=None,
                                close_after_marker=True))
    result = run_transcribe(server, speech_wav, "--speed", "0")
    assert result.exit_code == 0
    assert result.stdout == "kept\n"
    assert "closed the connection without an end marker" in result.stderr


def test_server_closing_right_after_the_marker_is_fine(make_server, speech_wav):
    server = make_server(Script(timed=[(0.5, sentence("kept"))], close_after_marker=True))
    result = run_transcribe(server, speech_wav, "--speed", "0")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "kept\n", "")


@pytest.mark.parametrize("name,content,message", [
    ("missing.wav", None, "missing.wav: no such file"),
    ("notes.wav", b"just some text\n" * 10, "not a readable audio file"),
    ("empty.pcm", b"", "no audio"),
])
def test_bad_audio_exits_3_before_connecting(server, tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = run_transcribe(server, path)
    assert result.exit_code == 3
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert server.records == []


def test_truncated_file_transcribes_what_is_there_then_exits_3(make_server, tmp_path):
    server = make_server(Script(timed=[(0.5, sentence("partial audio"))]))
    path = tmp_path / "cut.wav"
    write_audio(path, noise(2.0), 16000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    result = run_transcribe(server, path, "--speed", "0")
    assert result.exit_code == 3
    assert result.stdout == "partial audio\n"
    assert "truncated: 1.00 s of 2.00 s" in result.stderr
    assert server.record.end_of_stream == {"data": {"status": "CloseConnection"}}


def test_unwritable_output_is_a_usage_error(server, speech_wav, tmp_path):
    result = run_transcribe(server, speech_wav, "-o", tmp_path / "no" / "such" / "dir.txt")
    assert result.exit_code == 2 and "cannot write" in result.stderr


# --- configuration precedence ------------------------------------------------------------


def write_config(tmp_path, text):
    path = tmp_path / "xdg-config" / "asrx" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_config_file_supplies_url_and_key(make_server, speech_wav, tmp_path):
    server = make_server(THAI, api_key="from-file")
    write_config(tmp_path, f'url = "{server.url}"\napi_key = "from-file"\nspeed = 0\n')
    result = run_cli(["transcribe", speech_wav], api_key=None)
    assert result.exit_code == 0, result.stderr
    assert server.record.headers["apikey"] == "from-file"


def test_environment_beats_config_file_and_command_line_beats_both(make_server, speech_wav,
                                                                   tmp_path):
    file_server = make_server(THAI, api_key="k-file")
    env_server = make_server(THAI, api_key="k-env")
    cli_server = make_server(THAI, api_key="k-cli")
    write_config(tmp_path, f'url = "{file_server.url}"\napi_key = "k-file"\n')
    env = {"ASRX_URL": env_server.url, "ASRX_SPEED": "0"}
    assert run_cli(["transcribe", speech_wav], env=env, api_key="k-env").exit_code == 0
    assert env_server.record.headers["apikey"] == "k-env"
    result = run_cli(["transcribe", "--url", cli_server.url, "--api-key", "k-cli", speech_wav],
                     env=env, api_key="k-env")
    assert result.exit_code == 0
    assert cli_server.record.headers["apikey"] == "k-cli"
    assert file_server.records == []


def test_broken_config_file_is_a_usage_error(speech_wav, tmp_path):
    write_config(tmp_path, 'url = "ws://x"\ncolour = "blue"\n')
    result = run_cli(["transcribe", speech_wav])
    assert result.exit_code == 2
    assert "unknown key 'colour'" in result.stderr


def test_conflicting_output_options(speech_wav):
    result = run_cli(["transcribe", "--json", "--format", "raw", speech_wav])
    assert result.exit_code == 2 and "--json and --format raw exclude each other" in result.stderr
