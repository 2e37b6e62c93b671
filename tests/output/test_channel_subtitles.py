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
    # A sentence waits for its channel's next (its cues may not reach that speech),
    # and for the other channel, which may still say something from before 2 s.
    subtitles.add(1, "customer", Final(0, "hi", 1.0, 2.5))
    assert out.getvalue() == ""
    subtitles.add(1, "customer", Final(1, "later", 4.0, 5.0))
    assert ([cue[1:] for cue in cues(out.getvalue())]
            == [["00:00:01,000 --> 00:00:02,500", "customer: hi"]])
    # The agent is done: its cue goes, overlapping the customer's (two people at once).
    subtitles.channel_done(0)
    assert [cue[1:] for cue in cues(out.getvalue())] == [
        ["00:00:01,000 --> 00:00:02,500", "customer: hi"],
        ["00:00:02,000 --> 00:00:03,000", "agent: hello"]]
    subtitles.close()
    assert cues(out.getvalue())[-1] == ["3", "00:00:04,000 --> 00:00:05,000", "customer: later"]


def test_a_speakers_label_is_neutralised_in_srt_as_the_text_is():
    out = io.StringIO()
    subtitles = ChannelSubtitles(out, "srt", 1)
    subtitles.add(0, "<b>agent</b>", Final(0, "{\\an8}hello", 0.0, 1.0))
    subtitles.close()
    text = cues(out.getvalue())[0][2]
    assert "<b>" not in text and "{" not in text and text.endswith("hello")


def test_cues_of_one_channel_never_overlap_and_vtt_names_the_voice():
    out = io.StringIO()
    subtitles = ChannelSubtitles(out, "vtt", 2)
    subtitles.add(0, "a&b", Final(0, "one", 0.0, 2.0))
    subtitles.add(0, "a&b", Final(1, "two <x>", 1.5, 3.0))  # starts before the last one ended
    subtitles.close()
    assert out.getvalue() == ("WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\n<v a&amp;b>one\n\n"
                              "2\n00:00:02.000 --> 00:00:03.000\n<v a&amp;b>two &lt;x&gt;\n\n")


def test_a_silent_channel_holds_cues_back_only_until_the_audio_it_has_sent():
    out = io.StringIO()
    subtitles = ChannelSubtitles(out, "srt", 2)
    subtitles.add(0, "agent", Final(0, "hello", 1.0, 2.0))
    subtitles.add(0, "agent", Final(1, "again", 3.0, 4.0))
    assert out.getvalue() == ""  # the customer has said nothing, and may yet, from 0 s on
    subtitles.progress(1, 2.5)  # by the customer's audio sent: nothing of theirs before 2.5 s
    assert [cue[2] for cue in cues(out.getvalue())] == ["agent: hello"]
    subtitles.progress(1, 1.0)  # a horizon never goes back
    subtitles.add(1, "customer", Final(0, "late", 2.5, 3.5))
    subtitles.close()
    assert [cue[2] for cue in cues(out.getvalue())] == ["agent: hello", "customer: late",
                                                        "agent: again"]
