"""Many files in one run: --jobs, --output-dir, reruns, one summary, against real local servers."""

import os
import re

import pytest

from asrx_cli.batch.outputs import mark_json, mark_text
from asrx_cli.batch.plan import Item, plan
from asrx_cli.batch.summary import Outcome, Result, exit_status, summary_line
from asrx_cli.config import TranscribeConfig
from asrx_cli.errors import AudioError, AuthError, ConnectionFailed
from tests.support.batch_files import HEARD, files_in, good
from tests.support.run import json_lines, run_transcribe
from tests.support.scripted import Script, sentence

# The server says how much audio it heard: each file's transcript tells which file it came from.


@pytest.fixture
def corpus(tmp_path):
    """Three files named one by one (one of them not audio) and a tree of five more."""
    named = [good(tmp_path, "calls/a.wav", 1.5, 1), good(tmp_path, "calls/b.flac", 1.75, 2)]
    corrupt = tmp_path / "calls" / "corrupt.wav"
    corrupt.write_bytes(b"RIFF not really a wave file" * 10)
    tree = {"x.wav": 2.0, "sub/y.flac": 2.25, "sub/z.wav": 1.25, "sub/deeper/w.wav": 1.0,
            "v.wav": 2.5}
    for seed, (relative, seconds) in enumerate(tree.items(), start=10):
        good(tmp_path, f"tree/{relative}", seconds, seed)
    good(tmp_path, "tree/.hidden.wav", 1.0, 99)
    (tmp_path / "tree" / "notes.txt").write_text("not audio\n")
    expected = {"a.txt": 1.5, "b.txt": 1.75,
                **{os.path.splitext(r)[0] + ".txt": s for r, s in tree.items()}}
    return {"args": [*named, str(corrupt), str(tmp_path / "tree")],
            "corrupt": str(corrupt),
            "expected": {name: f"listening\nheard {seconds:.2f} s\n"
                         for name, seconds in expected.items()}}


def test_a_batch_runs_three_at_once_and_writes_one_output_per_good_file(make_server, corpus,
                                                                         tmp_path):
    server = make_server(HEARD)
    out = tmp_path / "out"
    result = run_transcribe(server, "--jobs", "3", "--speed", "4", "--output-dir", out,
                            *corpus["args"])
    assert result.exit_code == 3  # the corrupt file's class: unreadable audio
    assert result.stdout == ""
    assert files_in(out) == corpus["expected"]
    assert server.most_open_sessions == 3
    assert len(server.records) == 7  # the corrupt file never reaches the server
    summary = result.stderr.strip()
    assert summary.startswith("asrx: 7 transcribed, 1 skipped: not audio, "
                              f"1 failed: {corpus['corrupt']}: not a readable audio file")
    assert len(result.stderr.splitlines()) == 1


def test_a_rerun_opens_no_session_for_files_already_done(make_server, corpus, tmp_path):
    server = make_server(HEARD)
    out = tmp_path / "out"
    run_transcribe(server, "--jobs", "3", "--speed", "0", "--output-dir", out, *corpus["args"])
    sessions = len(server.records)
    again = run_transcribe(server, "--jobs", "3", "--speed", "0", "--output-dir", out,
                           *corpus["args"])
    assert len(server.records) == sessions
    assert again.exit_code == 3
    assert again.stderr.startswith("asrx: 0 transcribed, 7 already done, 1 skipped: not audio, "
                                   "1 failed: ")
    assert files_in(out) == corpus["expected"]
    redone = run_transcribe(server, "--overwrite", "--speed", "0", "--output-dir", out,
                            *corpus["args"])
    assert redone.stderr.startswith("asrx: 7 transcribed, 1 skipped: not audio, 1 failed: ")
    assert len(server.records) == sessions + 7


def test_an_incomplete_output_keeps_a_partial_name_and_is_redone(make_server, tmp_path):
    # The server hangs up mid-stream: what came is kept as .partial, never as the output.
    cut = make_server(Script(timed=[(0.2, sentence("so far"))], close_after_seconds=0.5))
    path = good(tmp_path, "in/a.wav", 3.0, 1)
    out = tmp_path / "out"
    failed = run_transcribe(cut, "--speed", "4", "--retries", "0", "--output-dir", out, path)
    assert failed.exit_code == 5
    # The server hangs up at 0.5 s of audio; at --speed 4 up to 0.16 s more may be on its way.
    assert re.fullmatch(f"asrx: 0 transcribed, 1 failed: {re.escape(str(path))}: "
                        r"the server closed the connection mid-stream "
                        r"\(close code 1011, server going away\) after 0\.[5-7] s of audio\n",
                        failed.stderr)
    left = files_in(out)
    assert left.pop("a.txt.partial") == "so far\n"
    assert list(left) == ["a.txt.resume"]  # noise: no speech placed, no point to go on from
    server = make_server(HEARD)
    assert run_transcribe(server, "--speed", "0", "--output-dir", out, path).exit_code == 0
    assert files_in(out) == {"a.txt": "listening\nheard 3.00 s\n"}


def test_several_inputs_on_stdout_mark_each_line_with_its_file(make_server, corpus):
    server = make_server(HEARD)
    result = run_transcribe(server, "--jobs", "3", "--speed", "4", *corpus["args"])
    assert result.exit_code == 3
    lines = result.stdout.splitlines()
    assert len(lines) == 14  # "listening" and "heard ..." for each good file
    by_file = {}
    for line in lines:
        path, text = re.fullmatch(r"(.+?): (listening|heard [\d.]+ s)", line).groups()
        by_file.setdefault(path, []).append(text)
    assert all(texts[0] == "listening" for texts in by_file.values())
    transcripts = {os.path.splitext(os.path.basename(p))[0]: "".join(t + "\n" for t in texts)
                   for p, texts in by_file.items()}
    assert transcripts == {os.path.splitext(os.path.basename(name))[0]: text
                           for name, text in corpus["expected"].items()}


def test_json_events_of_a_batch_carry_their_file(make_server, tmp_path):
    server = make_server(HEARD)
    paths = [good(tmp_path, "a.wav", 1.0, 1), good(tmp_path, "b.wav", 0.75, 2)]
    result = run_transcribe(server, "--json", "--jobs", "2", "--speed", "0", *paths)
    assert result.exit_code == 0
    finals = {(e["file"], e["text"]) for e in json_lines(result.stdout) if e["type"] == "final"}
    assert finals == {(paths[0], "listening"), (paths[0], "heard 1.00 s"),
                      (paths[1], "listening"), (paths[1], "heard 0.75 s")}
    assert result.stderr == "asrx: 2 transcribed\n"
    quiet = run_transcribe(server, "-q", "--json", "--speed", "0", *paths)
    assert (quiet.exit_code, quiet.stderr) == (0, "")


def test_an_api_key_refused_stops_the_whole_batch(make_server, corpus, tmp_path):
    server = make_server(HEARD, api_key="another-key")
    result = run_transcribe(server, "--jobs", "2", "--speed", "4", "--output-dir", tmp_path / "out",
                        *corpus["args"])
    assert result.exit_code == 4
    assert "refused the API key" in result.stderr
    failed = int(re.search(r"(\d+) failed", result.stderr).group(1))
    not_started = int(re.search(r"(\d+) not started", result.stderr).group(1))
    assert failed <= 2 and failed + not_started == 8
    assert files_in(tmp_path / "out") == {}


def test_a_directory_is_a_batch_even_alone(make_server, tmp_path):
    server = make_server(HEARD)
    good(tmp_path, "d/one.wav", 0.25, 1)
    result = run_transcribe(server, "--speed", "0", tmp_path / "d")
    path = tmp_path / "d" / "one.wav"
    assert result.stdout == f"{path}: listening\n{path}: heard 0.25 s\n"


def test_hidden_and_unreadable_files_in_a_directory_are_skipped_with_a_note(make_server, corpus,
                                                                             tmp_path):
    server = make_server(HEARD)
    result = run_transcribe(server, "-v", "--speed", "0", "--output-dir", tmp_path / "out",
                            tmp_path / "tree")
    assert result.exit_code == 0
    assert "skipped " + str(tmp_path / "tree" / ".hidden.wav") + ": hidden" in result.stderr
    assert "skipped " + str(tmp_path / "tree" / "notes.txt") + ": not audio" in result.stderr
    assert result.stderr.endswith("asrx: 5 transcribed, 1 skipped: not audio\n")
    assert len(server.records) == 5


@pytest.mark.parametrize("args, message", [
    (["a.wav", "b.wav", "-o", "out.txt"], "-o/--output takes a single input file"),
    (["a.wav", "-"], "not - or --mic"),
    (["--output-dir", "out", "a.wav", "--save-audio", "x.wav"],
     "--save-audio takes a single input file"),
    (["--output-dir", "out", "a.wav", "--stats"], "--stats takes a single input file"),
    (["--format", "vtt", "a.wav", "b.wav"], "--format vtt of several inputs needs --output-dir"),
])
def test_what_a_batch_cannot_do_is_a_usage_error(server, args, message):
    result = run_transcribe(server, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert server.records == []


def test_two_inputs_that_would_share_an_output_are_refused(server, tmp_path):
    paths = [good(tmp_path, "one/a.wav", 0.5, 1), good(tmp_path, "two/a.wav", 0.5, 2)]
    result = run_transcribe(server, "--output-dir", tmp_path / "out", *paths)
    assert result.exit_code == 2
    assert result.stderr == f"asrx: error: {paths[0]} and {paths[1]} would both be written to " \
                            f"{tmp_path / 'out' / 'a.txt'}\n"
    assert server.records == []


def test_subtitles_of_a_batch_are_one_file_per_input(make_server, tmp_path):
    server = make_server(HEARD)
    paths = [good(tmp_path, "in/a.wav", 1.0, 1), good(tmp_path, "in/b.wav", 0.5, 2)]
    result = run_transcribe(server, "--format", "srt", "--speed", "4", "--output-dir",
                            tmp_path / "out", *paths)
    assert result.exit_code == 0, result.stderr
    subtitles = files_in(tmp_path / "out")
    assert sorted(subtitles) == ["a.srt", "b.srt"]
    assert subtitles["a.srt"].startswith("1\n00:00:00,") and "heard 1.00 s" in subtitles["a.srt"]
    assert "heard 0.50 s" in subtitles["b.srt"]


def test_a_truncated_file_is_transcribed_as_far_as_it_goes_and_fails_alone(make_server, tmp_path):
    server = make_server(HEARD)
    cut = tmp_path / "in" / "cut.wav"
    whole = good(tmp_path, "in/whole.wav", 1.0, 2)
    data = open(good(tmp_path, "in/cut.wav", 2.0, 1), "rb").read()
    cut.write_bytes(data[: len(data) // 2])
    result = run_transcribe(server, "--jobs", "2", "--speed", "0", "--output-dir",
                            tmp_path / "out", cut, whole)
    assert result.exit_code == 3
    assert result.stderr == (f"asrx: 1 transcribed, 1 failed: {cut}: "
                             "truncated: 1.00 s of 2.00 s could be read\n")
    left = files_in(tmp_path / "out")
    assert left.pop("cut.txt.resume").startswith('{"asrx": "resume"')
    assert left == {"whole.txt": "listening\nheard 1.00 s\n",
                    "cut.txt.partial": "listening\nheard 1.00 s\n"}


def test_a_file_without_words_gets_an_empty_complete_output(server, tmp_path):
    path = good(tmp_path, "quiet.wav", 0.5, 1)
    result = run_transcribe(server, "--speed", "0", "--output-dir", tmp_path / "out", path)
    assert (result.exit_code, result.stderr) == (0, "asrx: 1 transcribed\n")
    assert files_in(tmp_path / "out") == {"quiet.txt": ""}


def test_an_output_dir_that_cannot_be_made_is_a_usage_error(server, tmp_path):
    path = good(tmp_path, "a.wav", 0.5, 1)
    (tmp_path / "file").write_text("")
    result = run_transcribe(server, "--output-dir", tmp_path / "file" / "out", path)
    assert result.exit_code == 2
    assert result.stderr == (f"asrx: error: cannot create {tmp_path / 'file' / 'out'}: "
                             "Not a directory\n")


def four_files(tmp_path):
    return [good(tmp_path, f"four/{index}.wav", 1.0, index) for index in range(4)]


def test_jobs_come_from_the_environment(make_server, tmp_path):
    server = make_server(HEARD)
    result = run_transcribe(server, "--speed", "4", *four_files(tmp_path), env={"ASRX_JOBS": "2"})
    assert result.exit_code == 0
    assert server.most_open_sessions == 2


def test_jobs_come_from_the_config_file_and_the_command_line_wins(make_server, tmp_path):
    config = tmp_path / "xdg-config" / "asrx" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("jobs = 3\n")
    server = make_server(HEARD)
    assert run_transcribe(server, "--speed", "4", *four_files(tmp_path)).exit_code == 0
    assert server.most_open_sessions == 3
    other = make_server(HEARD)
    assert run_transcribe(other, "--speed", "4", "-j", "1", *four_files(tmp_path)).exit_code == 0
    assert other.most_open_sessions == 1


def test_a_directory_is_planned_in_sorted_order_keeping_its_layout(tmp_path):
    for name in ("b.wav", "a/c.flac", "a.wav", "a/.d.wav", ".e/f.wav"):
        good(tmp_path, f"in/{name}", 0.5, 1)
    config = TranscribeConfig(audio=None,
                              inputs=(str(tmp_path / "in"), str(tmp_path / "in" / "b.wav")),
                              output_dir="out", output_format="json")
    assert [(os.path.relpath(i.path, tmp_path), i.output, i.duration)
            for i in plan(config).items] == [
        ("in/a.wav", "out/a.jsonl", 0.5), ("in/a/c.flac", "out/a/c.jsonl", 0.5),
        ("in/b.wav", "out/b.jsonl", 0.5)]


ITEM = Item("calls/x.wav", None, 1.0)


def test_summary_line_and_exit_status_follow_the_documented_order():
    outcomes = [Outcome(ITEM, Result.TRANSCRIBED), Outcome(ITEM, Result.DONE_BEFORE),
                Outcome(ITEM, Result.FAILED, ConnectionFailed("timed out")),
                Outcome(ITEM, Result.FAILED, AudioError("calls/x.wav: not a readable audio file"))]
    assert summary_line(outcomes) == ("1 transcribed, 1 already done, 2 failed: "
                                      "calls/x.wav: timed out; "
                                      "calls/x.wav: not a readable audio file")
    assert exit_status(outcomes) == 3
    assert exit_status(outcomes + [Outcome(ITEM, Result.NOT_STARTED)]) == 130
    assert exit_status(outcomes + [Outcome(ITEM, Result.FAILED, AuthError("refused"))]) == 4
    assert exit_status(outcomes[:2]) == 0


def test_lines_are_marked_as_grep_marks_them_and_json_gets_a_file_member():
    assert mark_text("calls/a.wav", "สวัสดี") == "calls/a.wav: สวัสดี"
    assert (mark_json("calls/ก.wav", '{"type": "final"}')
            == '{"file": "calls/ก.wav", "type": "final"}')
