"""Outputs that must not harm: never the input itself, and a failure said in the system's words."""

import contextlib
import os

import pytest

from tests.support.audio import noise, write_audio
from tests.support.batch_files import HEARD, good
from tests.support.mounts import tmpfs
from tests.support.run import run_transcribe


@pytest.fixture
def recording(tmp_path):
    path = write_audio(tmp_path / "g.wav", noise(1.0), 16000, subtype="PCM_16")
    return path, open(path, "rb").read()


@pytest.mark.parametrize("option", ["-o", "--save-audio"])
@pytest.mark.parametrize("spelling", ["same", "hard link", "symbolic link", "another path"])
def test_an_output_that_is_the_input_is_refused_before_it_is_opened(server, recording, tmp_path,
                                                                       option, spelling):
    path, content = recording
    other = tmp_path / "other.wav"
    if spelling == "hard link":
        os.link(path, other)
    elif spelling == "symbolic link":
        os.symlink(path, other)
    target = {"same": path, "another path": f"{tmp_path}/./sub/../g.wav"}.get(spelling, str(other))
    (tmp_path / "sub").mkdir()
    result = run_transcribe(server, "--speed", "0", option, target, path)
    assert result.exit_code == 2
    assert result.stderr == (f"asrx: error: {option} {target} is the input {path}: it would be "
                             "overwritten before it is read\n")
    assert open(path, "rb").read() == content and server.records == []


def test_a_batch_output_that_is_an_input_is_refused_before_any_session(server, tmp_path):
    audio_named_txt = good(tmp_path, "in/x.txt", 0.5, 1, format="WAV")
    content = open(audio_named_txt, "rb").read()
    other = good(tmp_path, "in/y.wav", 0.5, 2)
    result = run_transcribe(server, "--speed", "0", "--output-dir", tmp_path / "in",
                            other, audio_named_txt)
    assert result.exit_code == 2
    assert f"--output-dir {audio_named_txt} is the input {audio_named_txt}" in result.stderr
    assert open(audio_named_txt, "rb").read() == content and server.records == []


def test_an_output_beside_the_input_is_fine(make_server, recording, tmp_path):
    path, content = recording
    result = run_transcribe(make_server(HEARD), "--speed", "0", "-o", tmp_path / "g.txt", path)
    assert result.exit_code == 0 and open(tmp_path / "g.txt").read() == "listening\nheard 1.00 s\n"
    assert open(path, "rb").read() == content


@pytest.mark.parametrize("where, reason", [
    ("/dev/full", "No space left on device"),
    ("a directory", "Is a directory"),
    ("missing/dir.wav", "No such file or directory"),
    ("under a file", "Not a directory"),
])
def test_save_audio_that_cannot_be_written_says_why(server, recording, tmp_path, where, reason):
    path, _ = recording
    (tmp_path / "a directory").mkdir()
    (tmp_path / "under a file").write_text("")
    target = where if where.startswith("/") else str(tmp_path / where)
    if where == "under a file":
        target += "/x.wav"
    result = run_transcribe(server, "--speed", "0", "--save-audio", target, path)
    assert result.exit_code == 2
    assert result.stderr == f"asrx: error: cannot write {target}: {reason}\n"
    assert server.records == []


def test_save_audio_into_a_read_only_file_system_says_why(server, recording, tmp_path):
    path, _ = recording
    with tmpfs(tmp_path / "ro", "ro,size=64k") as folder:
        result = run_transcribe(server, "--speed", "0", "--save-audio", folder / "x.wav", path)
    assert result.exit_code == 2
    assert result.stderr == f"asrx: error: cannot write {folder / 'x.wav'}: Read-only file system\n"


@pytest.mark.parametrize("options, reason", [("ro,size=64k", "Read-only file system"),
                                             ("size=64k", "No space left on device")])
def test_an_output_dir_that_cannot_take_a_file_fails_before_any_audio_is_sent(
        server, tmp_path, options, reason):
    paths = [good(tmp_path, f"in/{name}.wav", 0.5, seed) for seed, name in enumerate("ab")]
    with tmpfs(tmp_path / "out", options) as folder:
        if "ro" not in options:
            with contextlib.suppress(OSError), open(folder / "filler", "wb") as filler:
                while True:  # the disk, full
                    filler.write(bytes(4096))
                    filler.flush()
        result = run_transcribe(server, "--speed", "0", "--output-dir", folder, *paths)
    assert result.exit_code == 2
    assert result.stderr == f"asrx: error: cannot write in {folder}: {reason}\n"
    assert server.records == []
