"""What `asrx transcribe` writes as SRT and WebVTT, read back by real readers; --stats."""

import re
import subprocess
import time

import pytest

from asrx_cli.output.width import subtitle_length
from tests.support.audio import noise, write_audio
from tests.support.readers import (
    chromium_cues,
    cues_of,
    ffmpeg_convert,
    needs_chromium,
    needs_ffmpeg,
)
from tests.support.run import json_lines, run_transcribe, start_asrx
from tests.support.scripted import Script, new_sentence, sentence
from tests.support.texts import ENGLISH, THAI_RUN

SENTENCES = [ENGLISH, THAI_RUN, "fish & chips, 2 < 3"]
# All after the end of the audio: the times are the same from run to run.
SCRIPT = Script(at_end=[sentence(ENGLISH[:20]), sentence(ENGLISH), new_sentence(THAI_RUN),
                        new_sentence(SENTENCES[2])])


@pytest.fixture(scope="module")
def subtitle_files(tmp_path_factory):
    """out.srt and out.vtt from the same script, and the audio they came from."""
    from tests.support import API_KEY
    from tests.support.scripted import ScriptedServer

    folder = tmp_path_factory.mktemp("subtitles")
    audio = write_audio(folder / "speech.wav", noise(3.0), 16000, subtype="PCM_16")
    for name in ("out.srt", "out.vtt"):
        server = ScriptedServer(SCRIPT, api_key=API_KEY).start()
        try:
            result = run_transcribe(server, audio, "--speed", "0", "-o", folder / name)
        finally:
            server.stop()
        assert result.exit_code == 0 and result.stdout == "", result.stderr
    return folder


def test_srt_and_vtt_parse_to_the_same_cues(subtitle_files):
    srt, vtt = cues_of(subtitle_files / "out.srt"), cues_of(subtitle_files / "out.vtt")
    assert srt == vtt and len(srt) >= 5
    assert all(start < end for start, end, _ in srt)
    assert all(a[1] <= b[0] for a, b in zip(srt, srt[1:]))
    joined = " ".join(text.replace("\n", " ") for _, _, text in srt)
    assert joined.replace(" ", "") == "".join(SENTENCES).replace(" ", "")
    numbers = re.findall(r"^(\d+)\n\d\d:", (subtitle_files / "out.srt").read_text(), re.MULTILINE)
    assert numbers == [str(n) for n in range(1, len(srt) + 1)]
    assert (subtitle_files / "out.vtt").read_text().startswith("WEBVTT\n\n")


@needs_ffmpeg
@pytest.mark.parametrize("name, converted",
                         [("out.srt", "from-srt.ass"), ("out.vtt", "from-vtt.srt")])
def test_ffmpeg_reads_and_converts_them_without_a_complaint(subtitle_files, name, converted):
    result = ffmpeg_convert(subtitle_files / name, subtitle_files / converted)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    original, again = cues_of(subtitle_files / name), cues_of(subtitle_files / converted)
    tolerance = 10 if converted.endswith(".ass") else 0  # ASS holds centiseconds
    assert len(again) == len(original)
    for (start, end, _), (first, last, _) in zip(again, original):
        assert abs(start - first) <= tolerance and abs(end - last) <= tolerance
    assert ([t.replace("\n", " ") for _, _, t in again]
            == [t.replace("\n", " ") for _, _, t in original])


@needs_chromium
def test_chromium_loads_the_vtt_as_a_track_with_every_cue(subtitle_files, tmp_path):
    shown = chromium_cues(subtitle_files, "out.vtt", tmp_path / "profile")
    expected = [(s / 1000, e / 1000, t) for s, e, t in cues_of(subtitle_files / "out.vtt")]
    assert shown == expected


@pytest.fixture
def short_audio(tmp_path):
    return write_audio(tmp_path / "speech.wav", noise(1.0), 16000, subtype="PCM_16")


def test_the_output_name_chooses_the_format_unless_one_is_given(make_server, short_audio, tmp_path):
    script = Script(timed=[(0.2, sentence("hello there"))])
    run_transcribe(make_server(script), short_audio, "--speed", "0", "-o", tmp_path / "a.VTT")
    assert (tmp_path / "a.VTT").read_text().startswith("WEBVTT\n\n1\n00:00:")
    run_transcribe(make_server(script), short_audio, "--speed", "0", "--json",
                   "-o", tmp_path / "b.srt")
    assert json_lines((tmp_path / "b.srt").read_text())[0]["type"] == "partial"
    result = run_transcribe(make_server(script), short_audio, "--speed", "0", "--format", "srt")
    assert re.fullmatch(r"1\n00:00:\d\d,\d{3} --> 00:00:\d\d,\d{3}\nhello there\n\n", result.stdout)


def test_stats_on_stderr_and_as_the_last_json_event(make_server, short_audio):
    script = Script(timed=[(0.2, sentence("hello")), (0.5, new_sentence("again"))])
    result = run_transcribe(make_server(script), short_audio, "--speed", "0", "--json", "--stats")
    assert result.exit_code == 0
    stats = json_lines(result.stdout)[-1]
    assert stats["type"] == "stats" and stats["sentences"] == 2 and stats["reconnects"] == 0
    assert stats["audio_seconds"] == 1.0 and stats["wall_seconds"] > 0
    assert stats["real_time_factor"] == pytest.approx(stats["wall_seconds"], abs=0.002)
    assert stats["first_partial_seconds"] is not None
    assert set(stats) >= {"final_latency_seconds", "speech_timed"}
    assert "asrx: stats" in result.stderr and "real-time factor" in result.stderr
    plain = run_transcribe(make_server(script), short_audio, "--speed", "0", "--stats")
    assert plain.stdout == "hello\nagain\n" and "sentences       2" in plain.stderr


def test_each_cue_is_in_the_file_while_the_audio_still_plays(make_server, tmp_path):
    """What `tail -f talk.srt` shows: the first sentence's cue long before the run ends.

    A sentence is written once the next one is closed: its cue may take the
    silence up to the next one's speech.
    """
    audio = write_audio(tmp_path / "speech.wav", noise(3.0), 16000, subtype="PCM_16")
    server = make_server(Script(timed=[(0.3, sentence("first")), (0.6, new_sentence("second")),
                                       (0.9, new_sentence("third"))]))
    output = tmp_path / "live.srt"
    process = start_asrx("transcribe", "--url", server.url, audio, "-o", output,
                         stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while ("first" not in (output.read_text() if output.exists() else "")
               and time.monotonic() < deadline):
            time.sleep(0.05)
        assert process.poll() is None, "the run ended before the cue was seen"
        assert output.read_text().startswith("1\n00:00:")
    finally:
        assert process.wait(15) == 0, process.stderr.read()
    assert "2\n" in output.read_text()


def test_line_width_and_lines_from_the_command_line_the_environment_and_the_config_file(
        make_server, short_audio, tmp_path):
    text = "การประชุมวันนี้เราจะพูดคุยเกี่ยวกับแผนงานประจำปีของบริษัท"
    script = Script(at_end=[sentence(text)])

    def lines(*args, env=None):
        result = run_transcribe(make_server(script), short_audio, "--speed", "0", "--format", "srt",
                                *args, env=env)
        assert result.exit_code == 0, result.stderr
        return [line for line in result.stdout.splitlines()
                if line and "-->" not in line and not line.isdigit()]

    default = lines()
    assert len(default) == 2 and all(subtitle_length(line) <= 35 for line in default)
    narrow = lines("--max-line-width", "20", "--max-lines", "1")
    assert len(narrow) >= 3 and all(subtitle_length(line) <= 20 for line in narrow)
    assert lines(env={"ASRX_MAX_LINE_WIDTH": "20", "ASRX_MAX_LINES": "1"}) == narrow
    config = tmp_path / "config.toml"
    config.write_text("max_line_width = 20\nmax_lines = 1\n")
    assert lines(env={"ASRX_CONFIG": str(config)}) == narrow
    result = run_transcribe(make_server(script), short_audio, "--max-line-width", "5")
    assert result.exit_code == 2 and "--max-line-width" in result.stderr
