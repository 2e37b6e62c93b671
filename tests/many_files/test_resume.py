"""An interrupted transcription goes on from its last sentence: real speech, a server that hangs up.

The scripted server answers each utterance of real speech a little late, as
a real one does, counting the audio it received; after a resume it receives
the audio from the resume point on, and its script is laid out for that
audio, as a real server's would be. The complete output must be what one
uninterrupted run writes.
"""

import os

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
from tests.support.run import run_transcribe
from tests.support.scripted import late_script
from tests.support.speech import needs_testdata
from tests.support.utterances import standard_layout

pytestmark = needs_testdata

SPEED = 4  # the scripted server counts audio, not time
BYTES_PER_SECOND = 32000


@pytest.fixture(scope="module")
def speech():
    layout = standard_layout()
    return layout


@pytest.fixture
def speech_file(speech, tmp_path):
    path = tmp_path / "in" / "talk.wav"
    path.parent.mkdir()
    soundfile.write(str(path), np.frombuffer(speech.pcm, "<i2"), 16000, subtype="PCM_16")
    return path


def cut_during(speech, index):
    """A server that hangs up in the middle of utterance `index`."""
    script = late_script(speech.truth, speech.texts)
    onset, offset = speech.truth[index]
    script.close_after_seconds = (onset + offset) / 2
    return script


@pytest.mark.parametrize("output_format", ["srt", "json", "text"])
def test_a_batch_rerun_goes_on_from_the_last_sentence_and_writes_what_one_run_writes(
        make_server, speech, speech_file, tmp_path, output_format):
    args = ["--speed", SPEED, "--format", output_format, "--no-partials"]
    expected = uninterrupted_outputs(make_server, speech, args, [speech_file], tmp_path / "whole")

    out = tmp_path / "out"
    cut = run_transcribe(make_server(cut_during(speech, 3)), *args, "--retries", "0",
                         "--output-dir", out, speech_file)
    assert cut.exit_code == 5
    name = list(expected)[0]
    journal = out / (name + ".resume")
    start, sentences = resume_point(journal)
    assert sentences == 3 and speech.truth[2][1] - 0.25 <= start < speech.truth[3][0]
    with open(journal, "a", encoding="utf-8") as stream:  # a crash in the middle of a line
        stream.write('{"event": {"type": "final", "sentence": 3, "te')

    server = make_server(script_from(speech, start))
    rerun = run_transcribe(server, *args, "--output-dir", out, speech_file)
    assert rerun.exit_code == 0, rerun.stderr
    first = int(start * 16000) * 2
    assert bytes(server.record.wait_finished().audio) == speech.pcm[first:]  # nothing before again
    assert sorted(files_in(out)) == [name]
    assert same_but_for_a_detector_frame(files_in(out)[name], expected[name])


def test_overwrite_starts_over(make_server, speech, speech_file, tmp_path):
    out = tmp_path / "out"
    args = ["--speed", SPEED, "--output-dir", out, speech_file]
    assert run_transcribe(make_server(cut_during(speech, 3)), "--retries", "0",
                          *args).exit_code == 5
    server = make_server(late_script(speech.truth, speech.texts))
    assert run_transcribe(server, "--overwrite", *args).exit_code == 0
    assert bytes(server.record.wait_finished().audio) == speech.pcm
    assert files_in(out) == {"talk.txt": "".join(text + "\n" for text in speech.texts)}


def test_o_file_resumes_with_resume_and_starts_over_without(make_server, speech, speech_file,
                                                            tmp_path):
    output = tmp_path / "talk.srt"
    whole = tmp_path / "whole.srt"
    assert run_transcribe(make_server(late_script(speech.truth, speech.texts)), "--speed", SPEED,
                          "-o", whole, speech_file).exit_code == 0
    cut = run_transcribe(make_server(cut_during(speech, 4)), "--speed", SPEED, "--retries", "0",
                         "-o", output, speech_file)
    assert cut.exit_code == 5 and os.path.exists(f"{output}.resume")
    start, sentences = resume_point(f"{output}.resume")
    assert sentences == 4
    server = make_server(script_from(speech, start))
    resumed = run_transcribe(server, "--speed", SPEED, "--resume", "-o", output, speech_file)
    assert resumed.exit_code == 0, resumed.stderr
    assert bytes(server.record.wait_finished().audio) == speech.pcm[int(start * 16000) * 2:]
    assert same_but_for_a_detector_frame(open(output).read(), open(whole).read())
    assert not os.path.exists(f"{output}.resume")
    again = run_transcribe(server, "--speed", SPEED, "--resume", "-o", output, speech_file)
    assert (again.exit_code, len(server.records)) == (0, 1)  # complete: nothing to send
    assert "complete already" in again.stderr


@pytest.mark.parametrize("args", [["-", "-o", "x.txt"], ["--mic", "-o", "x.txt"], ["IN"]])
def test_resume_needs_a_file_in_and_a_file_out(server, speech_file, args):
    result = run_transcribe(server, "--resume",
                            *[str(speech_file) if a == "IN" else a for a in args], input=b"")
    assert result.exit_code == 2
    assert "--resume needs -o FILE and an input file" in result.stderr
