"""Folders of recordings for batch tests, and a server that says how long each was."""

import os

from tests.support.audio import noise, write_audio
from tests.support.scripted import Script, new_sentence, sentence

HEARD = Script(timed=[(0.5, sentence("listening"))],
               answer=lambda record: [new_sentence(f"heard {record.seconds:.2f} s")])


def good(tmp_path, relative, seconds, seed, **options):
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_audio(path, noise(seconds, seed=seed), 16000, subtype="PCM_16", **options)


def files_in(folder):
    return {os.path.relpath(os.path.join(d, f), folder):
            open(os.path.join(d, f), encoding="utf-8").read()
            for d, _, names in os.walk(folder) for f in names}
