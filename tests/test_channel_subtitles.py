"""Subtitles of several channels on one timeline (asrx_cli/output/channel_subtitles.py)."""

import io

from asrx_cli.output.channel_subtitles import ChannelSubtitles
from asrx_cli.transcript.events import Final


def cues(text):
    return [block.split("\n") for block in text.strip().split("\n\n")]


def test_a_cue_waits_until_no_channel_can_bring_an_earlier_one():
    out = io.StringIO()
    subtitles = ChannelSubtitles(out, "srt", 2)
    subtitles.add(0, "agent", Final(0, "hello", 2.0, 3.0))
    assert out.getvalue() == ""  # the customer may still say something from before 2 s
    # The customer's next cue starts at 2.5 s at the earliest: both go, the earlier first,
    # overlapping (two people at once).
    subtitles.add(1, "customer", Final(0, "hi", 1.0, 2.5))
    assert [cue[1:] for cue in cues(out.getvalue())] == [
        ["00:00:01,000 --> 00:00:02,500", "customer: hi"],
        ["00:00:02,000 --> 00:00:03,000", "agent: hello"]]
    subtitles.add(1, "customer", Final(1, "later", 4.0, 5.0))
    assert cues(out.getvalue())[-1][2] == "agent: hello"  # the agent may still speak before 4 s
    subtitles.channel_done(0)
    assert cues(out.getvalue())[-1] == ["3", "00:00:04,000 --> 00:00:05,000", "customer: later"]


def test_cues_of_one_channel_never_overlap_and_vtt_names_the_voice():
    out = io.StringIO()
    subtitles = ChannelSubtitles(out, "vtt", 2)
    subtitles.add(0, "a&b", Final(0, "one", 0.0, 2.0))
    subtitles.add(0, "a&b", Final(1, "two <x>", 1.5, 3.0))  # starts before the last one ended
    subtitles.close()
    assert out.getvalue() == ("WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\n<v a&amp;b>one\n\n"
                              "2\n00:00:02.000 --> 00:00:03.000\n<v a&amp;b>two &lt;x&gt;\n\n")
