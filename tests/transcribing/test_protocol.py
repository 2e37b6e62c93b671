"""The protocol state machine, fed frames as the service documents them."""

import json

from asrx_cli.transcript.events import EndOfProcess, Final, Ignored, Partial, Transcript
from tests.support.scripted import CONFIRM_CLOSE, END_OF_PROCESS, new_sentence, sentence


def feed(transcript, message, offset=0.0):
    frame = (message if isinstance(message, (str, bytes))
             else json.dumps(message, ensure_ascii=False))
    return transcript.feed(frame, offset)


def test_sentence_hypotheses_replace_each_other_and_trailing_spaces_go():
    t = Transcript()
    assert feed(t, sentence("สวัสดีครับ "), 0.5) == [Partial(0, "สวัสดีครับ", 0.5)]
    assert feed(t, sentence("สวัสดีครับ ผมเสียง "), 1.0) == [Partial(0, "สวัสดีครับ ผมเสียง", 1.0)]
    assert feed(t, END_OF_PROCESS, 2.0) == [
        Final(0, "สวัสดีครับ ผมเสียง", 0.5, 2.0), EndOfProcess("end_of_process")]


def test_new_sentence_finalises_the_previous_one_and_starts_the_next():
    t = Transcript()
    feed(t, sentence("one"), 0.1)
    assert feed(t, new_sentence("two"), 0.9) == [Final(0, "one", 0.1, 0.9), Partial(1, "two", 0.9)]
    assert feed(t, sentence("two three"), 1.2) == [Partial(1, "two three", 1.2)]


def test_prose_spelling_of_new_sentence_is_accepted():
    t = Transcript()
    feed(t, sentence("one"))
    events = feed(t, {"type": "realtime", "state": "New sentence", "text": "two"}, 1.0)
    assert [type(e) for e in events] == [Final, Partial]


def test_repeated_hypothesis_is_reported_once():
    t = Transcript()
    feed(t, sentence("same"))
    assert feed(t, sentence("same "), 0.2) == []


def test_both_documented_end_markers_end_the_stream():
    for marker in (END_OF_PROCESS, CONFIRM_CLOSE):
        t = Transcript()
        feed(t, sentence("words"))
        events = feed(t, marker, 3.0)
        assert events[-1] == EndOfProcess(marker["text"])
        assert events[0] == Final(0, "words", 0.0, 3.0)


def test_unexpected_frames_are_ignored_without_losing_text():
    t = Transcript()
    feed(t, sentence("kept"), 0.1)
    for frame in ("not json", "[1, 2]", b"\x00\x01", json.dumps({"type": "error", "message": "x"}),
                  json.dumps({"type": "realtime", "state": "Thinking", "text": "x"}),
                  json.dumps({"type": "realtime", "state": "Sentence", "text": 42})):
        events = t.feed(frame, 0.2)
        assert len(events) == 1 and isinstance(events[0], Ignored), frame
    assert t.finish(0.3) == [Final(0, "kept", 0.1, 0.3)]


def test_empty_sentences_get_no_number():
    t = Transcript()
    assert feed(t, sentence("  ")) == []
    assert feed(t, new_sentence("first"), 1.0) == [Partial(0, "first", 1.0)]
    assert t.finish(2.0) == [Final(0, "first", 1.0, 2.0)]
    assert t.finish(2.0) == []


def test_extra_fields_do_not_matter():
    t = Transcript()
    message = dict(sentence("hello"), confidence=0.9, extra={"a": 1})
    assert feed(t, message, 0.4) == [Partial(0, "hello", 0.4)]


def test_valid_json_of_an_unexpected_shape_is_ignored_without_losing_text():
    t = Transcript()
    feed(t, sentence("kept"), 0.1)
    frames = [{"type": "realtime", "state": "Sentence", "text": []},
              {"type": "realtime", "state": "NewSentence", "text": {}},
              {"type": "realtime", "text": ["end_of_process"]},
              {"type": "realtime", "state": ["Sentence"], "text": "x"},
              "[" * 100000 + "]" * 100000]
    for frame in frames:
        events = feed(t, frame, 0.2)
        assert len(events) == 1 and isinstance(events[0], Ignored), frame
    assert t.finish(0.3) == [Final(0, "kept", 0.1, 0.3)]


def test_text_that_utf8_cannot_encode_is_replaced():
    t = Transcript()
    events = feed(t, '{"type": "realtime", "state": "Sentence", "text": "a\\ud800b"}')
    assert events == [Partial(0, "a?b", 0.0)]

