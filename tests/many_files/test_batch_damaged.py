"""A folder as users have them: damaged recordings among good ones, notes and pictures too."""

import os
import re

import pytest

from tests.support.batch_files import HEARD, files_in, good
from tests.support.run import ASRX, run_asrx, run_transcribe

installed = pytest.mark.skipif(not os.path.exists(ASRX), reason=f"asrx is not installed at {ASRX}")


def damaged_mp3(path):
    """Bytes where MPEG frames should be: libmpg123 finds no header in them, and says so on fd 2."""
    path.write_bytes(bytes(range(256)) * 12)
    return path


@pytest.fixture
def calls(tmp_path):
    folder = tmp_path / "calls"
    good(tmp_path, "calls/a.wav", 1.0, 1)
    good(tmp_path, "calls/sub/b.flac", 0.5, 2)
    (folder / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt damaged header")
    (folder / "empty.flac").write_bytes(b"")
    damaged_mp3(folder / "sub" / "c.mp3")
    (folder / "notes.txt").write_text("who called whom\n")
    (folder / "cover.jpg").write_bytes(b"\xff\xd8\xff\xe0 not much of a picture")
    (folder / "sub" / "README").write_text("calls of March\n")
    return folder


def test_damaged_audio_fails_by_name_and_other_files_are_counted_as_skipped(make_server, calls,
                                                                            tmp_path):
    server = make_server(HEARD)
    result = run_transcribe(server, "--speed", "0", "--output-dir", tmp_path / "out", calls)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == (
        "asrx: 2 transcribed, 3 skipped: not audio, 3 failed: "
        f"{calls / 'broken.wav'}: not a readable audio file "
        "(error in wav/w64/rf64 file. malformed 'fmt ' chunk); "
        f"{calls / 'empty.flac'}: not a readable audio file (format not recognised); "
        f"{calls / 'sub' / 'c.mp3'}: not a readable audio file "
        "(format not recognised, or damaged)\n")
    assert files_in(tmp_path / "out") == {"a.txt": "listening\nheard 1.00 s\n",
                                          "sub/b.txt": "listening\nheard 0.50 s\n"}
    assert len(server.records) == 2


def test_verbose_lists_the_files_skipped(make_server, calls, tmp_path):
    result = run_transcribe(make_server(HEARD), "-v", "--speed", "0", "--output-dir",
                            tmp_path / "out", calls)
    assert result.exit_code == 3
    skipped = re.findall(r"skipped (.+): not audio\n", result.stderr)
    assert skipped == [str(calls / "cover.jpg"), str(calls / "notes.txt"),
                       str(calls / "sub" / "README")]


def test_a_folder_of_notes_only_has_no_audio(server, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("nothing\n")
    result = run_transcribe(server, tmp_path / "d")
    assert (result.exit_code, result.stderr) == (3, "asrx: error: no audio files in "
                                                    f"{tmp_path / 'd'}\n")


@installed
def test_a_damaged_mp3_in_a_batch_is_one_line_without_the_decoders_notes(make_server, calls,
                                                                         tmp_path):
    server = make_server(HEARD)
    done = run_asrx("transcribe", "--url", server.url, "--speed", "0",
                    "--output-dir", tmp_path / "out", calls, text=True, timeout=60)
    assert done.returncode == 3
    assert "Note:" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert f"{calls / 'sub' / 'c.mp3'}: not a readable audio file" in done.stderr


@installed
def test_a_damaged_mp3_alone_says_why_and_nothing_else(server, tmp_path):
    path = damaged_mp3(tmp_path / "call.mp3")
    args = ["transcribe", "--url", server.url, path]
    done = run_asrx(*args, text=True, timeout=60)
    assert done.returncode == 3
    assert done.stderr == (f"asrx: error: {path}: not a readable audio file "
                           "(format not recognised, or damaged)\n")
    verbose = run_asrx(*args, "-v", text=True, timeout=60)
    assert "decoder: Note: " in verbose.stderr  # what the decoder said, for whoever asks


def test_a_file_name_with_a_newline_stays_on_its_line(make_server, tmp_path):
    path = good(tmp_path, "in/two\nlines.wav", 0.5, 1)
    other = good(tmp_path, "in/plain.wav", 0.5, 2)
    result = run_transcribe(make_server(HEARD), "--speed", "0", path, other)
    assert result.exit_code == 0
    quoted = '"' + path.replace("\n", "\\n") + '"'
    assert sorted(result.stdout.splitlines()) == sorted([
        f"{quoted}: listening", f"{quoted}: heard 0.50 s",
        f"{other}: listening", f"{other}: heard 0.50 s"])
