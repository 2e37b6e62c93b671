"""A disk that fills up under --output-dir in the middle of a batch: exit 2, one line, no file
streamed after the first that could not be written, no incomplete output under a final name."""

import contextlib
import os
import re

from tests.support.batch_files import good
from tests.support.mounts import tmpfs
from tests.support.run import run_transcribe
from tests.support.scripted import Script, sentence

PAGE = 4096  # tmpfs gives out space a page at a time
SHORT = Script(timed=[(0.5, sentence("a few words"))])
# A transcript larger than what is left on the disk, however its journal is laid out.
HUGE = Script(timed=[(0.5, sentence(" ".join(f"word{index}" for index in range(12000))))])


def fill_but(folder, pages):
    """Fill the file system, then free `pages` pages of it."""
    with contextlib.suppress(OSError), open(folder / ".filler", "wb") as filler:
        while True:
            filler.write(bytes(PAGE))
            filler.flush()
    os.truncate(folder / ".filler", os.path.getsize(folder / ".filler") - pages * PAGE)


def test_a_disk_full_mid_batch_stops_it_at_the_first_file_not_written(make_server, tmp_path):
    server = make_server([SHORT, HUGE, SHORT])
    paths = [good(tmp_path, f"in/{index}.wav", 1.0, index) for index in range(5)]
    args = ["--jobs", "1", "--speed", "0", "--output-dir"]
    with tmpfs(tmp_path / "out", "size=256k") as out:
        fill_but(out, 16)  # room for a few words, not for the second file's transcript
        result = run_transcribe(server, *args, out, *paths)
        left = sorted(name for name in os.listdir(out) if name != ".filler")
        first = (out / "0.txt").read_text()
        os.remove(out / ".filler")  # room again: the same command finishes what is left
        rerun = run_transcribe(make_server(SHORT), *args, out, *paths)
        done = {name: (out / name).read_text() for name in os.listdir(out)}
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    failed = re.escape(str(out / "1.txt")) + r"\.(partial|resume)"  # the transcript or its journal
    item = re.escape(str(paths[1]))
    assert re.fullmatch(f"asrx: 1 transcribed, 3 not started, 1 failed: {item}: "
                        f"cannot write the transcript: {failed}: no space left on device", lines[0])
    assert len(server.records) == 2  # nothing streamed after the failure
    assert first == "a few words\n"
    # The failed file has no output under its final name; the files after it, none at all.
    assert "1.txt" not in left
    assert not [name for name in left if name.startswith(("2.", "3.", "4."))]
    assert rerun.exit_code == 0, rerun.stderr
    assert rerun.stderr == "asrx: 4 transcribed, 1 already done\n"
    assert done == {f"{index}.txt": "a few words\n" for index in range(5)}
