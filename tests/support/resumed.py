"""Outputs of a resumed transcription held against one uninterrupted run's, and the scripted
server's answers for audio that starts at the resume point."""

import json
import re

from tests.support.batch_files import files_in
from tests.support.run import run_transcribe
from tests.support.scripted import late_script

TIME = re.compile(r"(\d\d):(\d\d):(\d\d)[,.](\d{3})|(?:(?<=\"start\": )|(?<=\"end\": ))(\d+\.?\d*)")
DETECTOR_FRAME = 0.03  # the speech detector starts afresh at the resume point: a frame's difference


def times(text):
    found = []
    for match in TIME.finditer(text):
        if match.group(5):
            found.append(float(match.group(5)))
        else:
            h, m, sec, ms = map(int, match.groups()[:4])
            found.append(h * 3600 + m * 60 + sec + ms / 1000)
    return found


def same_but_for_a_detector_frame(got, expected):
    """The same text, sentence numbers and cue numbers; every time within a detector frame."""
    assert TIME.sub("T", got) == TIME.sub("T", expected)
    pairs = list(zip(times(got), times(expected)))
    assert len(times(got)) == len(times(expected))
    assert all(abs(a - b) <= DETECTOR_FRAME + 0.0015 for a, b in pairs), pairs
    return True


def script_from(speech, start):
    """What a server's answers are when the audio it gets starts at `start` s of the input."""
    later = [(index, (on - start, off - start)) for index, (on, off) in enumerate(speech.truth)
             if on >= start]
    return late_script([times for _, times in later], [speech.texts[index] for index, _ in later])


def resume_point(journal):
    """(resume_at, sentences) of a journal's last resume point."""
    marks = [json.loads(line) for line in open(journal, encoding="utf-8") if '"resume_at"' in line]
    return marks[-1]["resume_at"], marks[-1]["sentences"]


def uninterrupted_outputs(make_server, speech, args, inputs, folder):
    """The files one run without a cut writes into `folder`: what a resumed run must match."""
    whole = run_transcribe(make_server(late_script(speech.truth, speech.texts)), *args,
                           "--output-dir", folder, *inputs)
    assert whole.exit_code == 0, whole.stderr
    return files_in(folder)
