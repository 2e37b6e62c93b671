"""Resuming after the hardest stops: `kill -9` of the installed asrx in the middle of a file, and
a journal whose resume point is the very end of the file (nothing left to send)."""

import json
import os
import signal

import numpy as np
import pytest
import soundfile

from tests.support.batch_files import files_in
from tests.support.resumed import (
    resume_point,
    same_but_for_a_detector_frame,
    script_from,
    uninterrupted_outputs,
)
from tests.support.run import run_transcribe, start_asrx, wait_for
from tests.support.scripted import late_script
from tests.support.speech import needs_testdata
from tests.support.utterances import standard_layout

pytestmark = needs_testdata

SPEED = 4


@pytest.fixture(scope="module")
def speech():
    return standard_layout()


def write(speech, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), np.frombuffer(speech.pcm, "<i2"), 16000, subtype="PCM_16")
    return path


@pytest.fixture
def speech_file(speech, tmp_path):
    return write(speech, tmp_path / "in" / "talk.wav")


def sentences_journaled(journal):
    try:
        return resume_point(journal)[1]
    except (FileNotFoundError, IndexError):
        return 0


def test_kill_9_mid_file_in_a_batch_then_the_rerun_writes_what_one_run_writes(
        make_server, speech, tmp_path):
    inputs = [write(speech, tmp_path / "in" / name) for name in ("a.wav", "b.wav")]
    args = ["--speed", SPEED, "--format", "srt", "--jobs", "1"]
    expected = uninterrupted_outputs(make_server, speech, args, inputs, tmp_path / "whole")
    assert sorted(expected) == ["a.srt", "b.srt"]

    out = tmp_path / "out"
    server = make_server(late_script(speech.truth, speech.texts))
    process = start_asrx("transcribe", "--url", server.url, *args, "--output-dir", out, *inputs)
    try:
        wait_for(lambda: sentences_journaled(out / "a.srt.resume") >= 3, timeout=60)
        os.kill(process.pid, signal.SIGKILL)  # no handler, no flush: as a crash or a reboot
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    assert not (out / "a.srt").exists() and not (out / "b.srt").exists()
    start, sentences = resume_point(out / "a.srt.resume")
    assert 3 <= sentences < len(speech.texts)

    again = make_server([script_from(speech, start), late_script(speech.truth, speech.texts)])
    rerun = run_transcribe(again, *args, "--output-dir", out, *inputs)
    assert rerun.exit_code == 0, rerun.stderr
    assert rerun.stderr == "asrx: 2 transcribed\n"
    first = int(start * 16000) * 2
    resumed, fresh = (record.wait_finished() for record in again.records)
    assert bytes(resumed.audio) == speech.pcm[first:]  # nothing before the resume point again
    assert bytes(fresh.audio) == speech.pcm
    got = files_in(out)
    assert sorted(got) == ["a.srt", "b.srt"]  # no journal, no .partial left
    assert same_but_for_a_detector_frame(got["a.srt"], expected["a.srt"])
    assert got["b.srt"] == expected["b.srt"]


@pytest.mark.parametrize("output_format", ["srt", "json"])
def test_a_resume_point_at_the_very_end_completes_the_output_with_nothing_sent(
        make_server, speech, speech_file, tmp_path, output_format):
    args = ["--speed", SPEED, "--format", output_format, "--no-partials"]
    expected = uninterrupted_outputs(make_server, speech, args, [speech_file], tmp_path / "whole")
    name = list(expected)[0]

    out = tmp_path / "out"
    cut = late_script(speech.truth, speech.texts)
    cut.end_marker = None  # every sentence final, then no end marker: the run fails at the end
    failed = run_transcribe(make_server(cut), *args, "--final-timeout", "0.5", "--retries", "0",
                            "--output-dir", out, speech_file)
    assert failed.exit_code == 5, failed.stderr
    journal = out / (name + ".resume")
    marks = [json.loads(line) for line in open(journal) if '"resume_at"' in line]
    # The last sentence was written out as the run ended: journaled, but not yet a resume point.
    assert marks[-1]["sentences"] == len(speech.texts) - 1
    last = [json.loads(line) for line in open(journal)][-1]
    assert last["event"]["type"] == "final" and last["event"]["text"] == speech.texts[-1]
    with open(journal, "a", encoding="utf-8") as stream:  # as if it had run to the very end
        stream.write(json.dumps({"resume_at": len(speech.pcm) / 32000,
                                 "sentences": len(speech.texts)}) + "\n")

    server = make_server(late_script([], []))
    rerun = run_transcribe(server, *args, "--output-dir", out, speech_file)
    assert rerun.exit_code == 0, rerun.stderr
    assert rerun.stderr == "asrx: 1 transcribed\n"
    assert server.records == []  # nothing was left to send
    assert files_in(out) == expected
