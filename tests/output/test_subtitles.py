"""SRT and WebVTT: cue building, and files that real readers take (pysubs2, ffmpeg, Chromium)."""

import io

import pytest

from asrx_cli.output.subtitles import (
    SubtitleRenderer,
    cue_texts,
    graphemes,
    sentence_cues,
    timestamp,
    wrap,
)
from asrx_cli.output.width import display_width
from asrx_cli.transcript.events import Final, Partial
from tests.support.texts import ENGLISH, THAI_RUN


def test_lines_break_at_spaces_within_42_columns():
    lines = wrap(ENGLISH)
    assert all(display_width(line) <= 42 for line in lines)
    assert " ".join(lines) == ENGLISH
    assert all(not line.startswith(" ") and not line.endswith(" ") for line in lines)
    assert display_width(lines[0] + " " + lines[1].split()[0]) > 42  # each line as full as it can be


def test_thai_without_spaces_breaks_between_grapheme_clusters_by_display_width():
    lines = wrap(THAI_RUN)
    assert "".join(lines) == THAI_RUN
    assert all(display_width(line) <= 42 for line in lines)
    assert max(display_width(line) for line in lines[:-1]) >= 40  # marks take no column: more fits
    clusters = graphemes(THAI_RUN)
    boundaries, position = set(), 0
    for cluster in clusters:
        position += len(cluster)
        boundaries.add(position)
    position = 0
    for line in lines:
        position += len(line)
        assert position in boundaries  # never inside a cluster
        assert display_width(line[0]) == 1  # no line starts on a vowel or tone mark


def test_a_long_sentence_becomes_cues_of_two_lines_that_share_its_time_by_width():
    texts = cue_texts(THAI_RUN + " " + ENGLISH)
    assert len(texts) >= 3 and all(1 <= len(t.split("\n")) <= 2 for t in texts)
    cues = sentence_cues(10.0, 22.0, THAI_RUN + " " + ENGLISH)
    assert [c.text for c in cues] == texts
    assert cues[0].start == 10.0 and cues[-1].end == pytest.approx(22.0)
    widths = [display_width(c.text.replace("\n", "")) for c in cues]
    for cue, width in zip(cues, widths):
        assert cue.end - cue.start == pytest.approx(12.0 * width / sum(widths))
    assert all(a.end == pytest.approx(b.start) for a, b in zip(cues, cues[1:]))


def test_timestamps():
    assert timestamp(3725.5, ",") == "01:02:05,500"
    assert timestamp(0.0004, ".") == "00:00:00.000"
    assert timestamp(59.9996, ".") == "00:01:00.000"


def test_cues_are_numbered_from_one_flushed_per_sentence_and_never_overlap_or_go_back():
    out = io.StringIO()
    flushed = []
    out.flush = lambda: flushed.append(out.getvalue())
    renderer = SubtitleRenderer(out, "srt")
    renderer.event(Partial(0, "never a cue", 0.5))
    renderer.event(Final(0, "first", 1.0, 3.0))
    renderer.event(Final(1, "second", 2.5, 2.6))  # starts before the first ends, and is short
    renderer.event(Final(2, "third", 2.0, 2.1))  # goes back in time
    assert out.getvalue() == (
        "1\n00:00:01,000 --> 00:00:03,000\nfirst\n\n"
        "2\n00:00:03,000 --> 00:00:03,200\nsecond\n\n"
        "3\n00:00:03,200 --> 00:00:03,400\nthird\n\n")
    assert len(flushed) == 3 and flushed[0].endswith("first\n\n")


def test_vtt_has_its_header_at_once_and_escapes_markup():
    out = io.StringIO()
    renderer = SubtitleRenderer(out, "vtt")
    assert out.getvalue() == "WEBVTT\n\n"
    renderer.event(Final(0, "a <b> & c --> d", 1.0, 2.0))
    assert out.getvalue().endswith("1\n00:00:01.000 --> 00:00:02.000\na &lt;b&gt; &amp; c --&gt; d\n\n")

