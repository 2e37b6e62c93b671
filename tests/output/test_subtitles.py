"""SRT and WebVTT cues: their lines, their times by the Thai conventions, their escaping."""

import io

import pysubs2
import pytest

from asrx_cli.output.subtitles import (
    LONGEST_CUE,
    READING_SPEED,
    SHORTEST_CUE,
    CueStyle,
    SubtitleRenderer,
    cue_texts,
    sentence_cues,
    timestamp,
)
from asrx_cli.output.width import subtitle_length
from asrx_cli.transcript.events import Final, Partial
from tests.support.texts import ENGLISH, THAI_RUN

# The issue's sentence: 3.1 s of speech for 113 characters.
MEETING = ("การประชุมวันนี้เราจะพูดคุยเกี่ยวกับแผนงานประจำปีของบริษัทและงบประมาณที่ต้องใช้"
           "ในการพัฒนาผลิตภัณฑ์ใหม่สำหรับลูกค้าในประเทศไทย")
SHORTEST = round(SHORTEST_CUE, 3)  # what a file holds


def lines_of(cues):
    return [line for cue in cues for line in cue.text.split("\n")]


def speed(cue):
    return subtitle_length(cue.text) / (cue.end - cue.start)


def test_english_lines_break_at_spaces_within_42_characters():
    texts = cue_texts(ENGLISH)
    lines = [line for text in texts for line in text.split("\n")]
    assert all(subtitle_length(line) <= 42 for line in lines)
    assert " ".join(lines) == ENGLISH
    assert all(1 <= len(text.split("\n")) <= 2 for text in texts)


def test_thai_lines_hold_35_and_the_options_change_width_and_lines():
    assert max(map(subtitle_length, lines_of(sentence_cues(0, 9, MEETING)))) <= 35
    one_line = CueStyle(lines=1)
    assert max(map(subtitle_length, lines_of(sentence_cues(0, 9, ENGLISH, style=one_line)))) > 35
    narrow = sentence_cues(0, 9, MEETING, style=CueStyle(line_width=20, lines=1))
    assert all(cue.text.count("\n") == 0 and subtitle_length(cue.text) <= 20 for cue in narrow)


def test_the_issues_sentence_takes_the_silence_after_it_to_be_read():
    cues = sentence_cues(0.6, 3.72, MEETING, next_speech=12.0)
    assert cues[0].start == 0.6 and cues[-1].end <= 12.0
    assert all(SHORTEST_CUE <= cue.end - cue.start <= LONGEST_CUE for cue in cues)
    assert all(speed(cue) <= READING_SPEED + 1e-9 for cue in cues)
    assert all(a.end == pytest.approx(b.start) for a, b in zip(cues, cues[1:]))
    assert "บริษัท" in "".join(lines_of(cues)).replace(" ", "")


def test_never_into_the_next_sentences_speech_and_never_a_cue_shorter_than_the_minimum():
    cues = sentence_cues(0.6, 3.72, MEETING, next_speech=4.0)  # little silence: too fast to read
    assert cues[-1].end == pytest.approx(4.0)
    assert all(cue.end - cue.start >= SHORTEST_CUE for cue in cues)
    squeezed = sentence_cues(1.0, 1.9, MEETING, next_speech=2.0)  # a second for three cues' worth
    assert all(cue.end - cue.start >= SHORTEST_CUE - 1e-9 for cue in squeezed)
    assert len(squeezed) == 2  # the fewest the lines allow; the minimum wins over the next speech


def test_a_long_speech_is_cut_into_cues_of_at_most_7_seconds_that_cover_it():
    cues = sentence_cues(10.0, 40.0, MEETING)
    assert cues[0].start == 10.0 and cues[-1].end == pytest.approx(40.0)
    assert all(SHORTEST_CUE <= cue.end - cue.start <= LONGEST_CUE + 1e-9 for cue in cues)
    word = sentence_cues(10.0, 30.0, "ครับ")
    assert len(word) == 1 and word[0].end - word[0].start == LONGEST_CUE


def test_a_short_sentence_lasts_the_minimum():
    (cue,) = sentence_cues(5.0, 5.1, "ค่ะ")
    assert cue.end - cue.start == pytest.approx(SHORTEST_CUE)


def test_timestamps():
    assert timestamp(3725.5, ",") == "01:02:05,500"
    assert timestamp(0.0004, ".") == "00:00:00.000"
    assert timestamp(59.9996, ".") == "00:01:00.000"


def test_a_sentence_is_written_once_the_next_speech_is_known_numbered_in_order_never_overlapping():
    out = io.StringIO()
    flushed = []
    out.flush = lambda: flushed.append(out.getvalue())
    renderer = SubtitleRenderer(out, "srt")
    renderer.event(Partial(0, "never a cue", 0.5))
    renderer.event(Final(0, "first", 1.0, 3.0))
    assert out.getvalue() == ""
    renderer.event(Final(1, " ", 2.0, 2.0))  # empty: no cue
    renderer.event(Final(2, "second", 2.5, 2.6))  # starts before the first ends, and is short
    renderer.event(Final(3, "third", 2.0, 2.1))  # goes back in time
    renderer.close()
    assert out.getvalue() == (
        "1\n00:00:01,000 --> 00:00:03,000\nfirst\n\n"
        "2\n00:00:03,000 --> 00:00:03,833\nsecond\n\n"
        "3\n00:00:03,833 --> 00:00:04,666\nthird\n\n")
    assert len(flushed) == 3 and flushed[0].endswith("first\n\n")


def test_a_cue_reaches_into_the_silence_up_to_the_next_sentence():
    out = io.StringIO()
    renderer = SubtitleRenderer(out, "srt")
    renderer.event(Final(0, THAI_RUN, 1.0, 2.0))
    renderer.event(Final(1, "ครับ", 6.0, 6.5))
    renderer.close()
    cues = pysubs2.SSAFile.from_string(out.getvalue()).events
    assert cues[-2].end == 6000 and cues[-1].start == 6000
    assert all(cue.duration >= SHORTEST * 1000 for cue in cues)


def test_vtt_has_its_header_at_once_and_escapes_markup():
    out = io.StringIO()
    renderer = SubtitleRenderer(out, "vtt")
    assert out.getvalue() == "WEBVTT\n\n"
    renderer.event(Final(0, "a <b> & c --> d", 1.0, 2.0))
    renderer.close()
    assert out.getvalue().endswith(
        "1\n00:00:01.000 --> 00:00:02.000\na &lt;b&gt; &amp; c --&gt; d\n\n")


def test_srt_text_can_make_no_cue_no_tag_and_no_override():
    out = io.StringIO()
    renderer = SubtitleRenderer(out, "srt", CueStyle(line_width=60))
    for n, text in enumerate(["1 00:00:01,000 --> 00:00:02,000", "<b>bold</b> {\\an8}top"]):
        renderer.event(Final(n, text, 1.0 + 3 * n, 2.0 + 3 * n))
    renderer.close()
    events = pysubs2.SSAFile.from_string(out.getvalue()).events
    assert len(events) == 2
    assert "00" in events[0].plaintext and "01,000" in events[0].plaintext
    assert "bold" in events[1].plaintext and "an8" in events[1].plaintext
    assert "{" not in events[1].text and "\\b1" not in events[1].text
