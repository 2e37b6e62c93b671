"""The server's side of the protocol, message by message (no I/O)."""

import pytest

from asrx_cli.server.frames import (
    Hypothesis,
    NotJson,
    SentenceMessages,
    parse_text_frame,
)
from asrx_cli.wire import is_end_of_stream
from tests.support.scripted import new_sentence, sentence


def test_the_first_sentence_says_sentence_and_later_ones_start_with_new_sentence():
    messages = SentenceMessages()
    sent = messages.messages([
        Hypothesis(0, "go", False), Hypothesis(0, "go forward", True),
        Hypothesis(1, "ten", False), Hypothesis(1, "ten meters", True),
        Hypothesis(2, "again", True),
    ])
    assert sent == [sentence("go"), sentence("go forward"), new_sentence("ten"),
                    sentence("ten meters"), new_sentence("again")]
    assert messages.sentences == 3


def test_an_unchanged_hypothesis_is_not_sent_again():
    messages = SentenceMessages()
    assert messages.messages([Hypothesis(0, "go", False)]) == [sentence("go")]
    assert messages.messages([Hypothesis(0, "go", False), Hypothesis(0, "go", True)]) == []


def test_an_utterance_without_words_is_no_sentence():
    messages = SentenceMessages()
    assert messages.messages([Hypothesis(0, "", False), Hypothesis(0, "", True)]) == []
    # So the first sentence with words is still the session's first.
    assert messages.messages([Hypothesis(1, "hello", True)]) == [sentence("hello")]
    assert messages.sentences == 1


def test_a_final_that_drops_every_word_replaces_the_partial():
    messages = SentenceMessages()
    messages.messages([Hypothesis(0, "uh", False)])
    assert messages.messages([Hypothesis(0, "", True)]) == [sentence("")]


@pytest.mark.parametrize("message", [
    {"data": {"status": "CloseConnection"}},
    {"status": "end of stream"},
    {"data": {"status": "end of stream"}},
    {"status": "End-Of-Stream", "data": None},
    {"data": {"status": "closeconnection", "other": 1}},
])
def test_end_of_stream_in_every_documented_form(message):
    assert is_end_of_stream(message)


@pytest.mark.parametrize("message", [
    {}, {"status": "open"}, {"data": "CloseConnection"}, {"data": {"status": 1}},
    {"text": "end of stream"},
])
def test_other_messages_are_not_end_of_stream(message):
    assert not is_end_of_stream(message)


@pytest.mark.parametrize("text", ["end of stream", "[1, 2]", '"CloseConnection"', "{", ""])
def test_text_frames_must_be_json_objects(text):
    with pytest.raises(NotJson):
        parse_text_frame(text)
