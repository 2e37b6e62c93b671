"""`asrx transcribe` against a server whose frames are valid JSON of a shape no server should
send."""

import json

from tests.support.audio import noise, write_audio
from tests.support.run import run_transcribe
from tests.support.scripted import Script, new_sentence, sentence


def test_json_of_an_unexpected_shape_is_ignored_and_the_transcript_kept(make_server, tmp_path):
    server = make_server(Script(timed=[
        (0.1, sentence("first")),
        (0.2, {"type": "realtime", "state": "Sentence", "text": []}),
        (0.3, {"type": "realtime", "state": "NewSentence", "text": {}}),
        (0.4, "[" * 50000 + "]" * 50000),
        (0.5, json.dumps({"type": "realtime", "state": "Sentence", "text": "a\ud800"})),
        (0.6, new_sentence("second")),
    ]))
    path = write_audio(tmp_path / "a.wav", noise(1.0), 16000)
    result = run_transcribe(server, path, "--speed", "0", "--json")
    assert result.exit_code == 0, result.stderr
    assert [(e["type"], e["text"]) for e in map(json.loads, result.stdout.splitlines())] == [
        ("partial", "first"), ("partial", "a?"), ("final", "a?"), ("partial", "second"),
        ("final", "second")]
    assert result.stderr == ""
