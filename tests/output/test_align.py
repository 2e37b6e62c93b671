"""Placing sentences on speech segments: by order and by what the messages say, not by arrival."""

import pytest

from asrx_cli.messages import SpeechEnded, SpeechStarted
from asrx_cli.transcript.align import SpeechAligner, lead_for_speed
from asrx_cli.transcript.events import Final, Partial
from asrx_cli.transcript.timeline import SpeechTimeline
from tests.support.speech import timeline


def sentence(index, first, changes, closed, text="words"):
    """A sentence's events: its first words at `first`, new text at each of `changes`, closed
    at `closed`."""
    events = [Partial(index, text[:1], first)]
    events += [Partial(index, text[:n + 2], at) for n, at in enumerate(changes)]
    return events + [Final(index, text, first, closed)]


def finals(line, *sentences, lead=4.0):
    aligner = SpeechAligner(line, lead)
    placed = [aligner.event(event) for events in sentences for event in events]
    return [(f.start, f.end, f.timing) for f in placed if isinstance(f, Final)]


def test_a_late_server_gets_the_onsets_and_offsets_of_the_speech():
    line = timeline((1.0, 3.0), (4.0, 5.5))
    assert finals(line, sentence(0, 1.5, [3.4], 4.6), sentence(1, 4.6, [5.9], 6.5)) == [
        (1.0, 3.0, "speech"), (4.0, 5.5, "speech")]


def test_partials_pass_unchanged():
    aligner = SpeechAligner(timeline((1.0, 2.0)))
    assert aligner.event(Partial(0, "a", 1.4)) == Partial(0, "a", 1.4)


def test_a_server_later_than_the_pauses_still_breaks_at_the_first_wide_pause():
    # The next sentence is announced at 5.8, after the pause that follows it.
    line = timeline((1.0, 2.0), (3.0, 4.0), (5.5, 6.5))
    assert finals(line, sentence(0, 1.9, [4.8], 5.8), sentence(1, 5.8, [6.2], 8.0),
                  sentence(2, 8.0, [], 9.0)) == [
        (1.0, 2.0, "speech"), (3.0, 4.0, "speech"), (5.5, 6.5, "speech")]


def test_a_short_pause_inside_a_sentence_does_not_end_it():
    line = timeline((1.0, 2.0), (2.25, 3.0), (4.0, 5.0))
    assert (finals(line, sentence(0, 1.6, [3.3], 4.5), sentence(1, 4.5, [], 5.5))[0]
            == (1.0, 3.0, "speech"))


def test_speech_after_the_last_new_words_is_not_the_sentence():
    line = timeline((1.0, 2.0), (3.5, 3.8))  # a cough after the sentence, before the stream ends
    assert finals(line, sentence(0, 1.4, [2.3], 4.5)) == [(1.0, 2.0, "speech")]


def test_without_speech_to_fit_the_arrival_times_stay_and_say_so():
    assert finals(timeline(), sentence(0, 1.4, [], 2.0)) == [(1.4, 2.0, "arrival")]
    too_early = timeline((0.5, 1.0))  # ended long before the words arrived
    assert finals(too_early, sentence(0, 9.0, [], 10.0)) == [(9.0, 10.0, "arrival")]


def test_a_sentence_whose_speech_runs_on_ends_when_its_final_came():
    assert finals(timeline((1.0, None)), sentence(0, 1.5, [], 3.0)) == [(1.0, 3.0, "speech")]


def test_a_missed_sentence_does_not_shift_the_next_onto_its_speech():
    line = timeline((1.0, 2.0), (3.0, 4.0))
    placed = finals(line, sentence(0, 0.2, [], 0.4), sentence(1, 1.5, [], 3.4),
                    sentence(2, 3.4, [], 4.6))
    assert placed == [(0.2, 0.4, "arrival"), (1.0, 2.0, "speech"), (3.0, 4.0, "speech")]


def test_the_lead_grows_with_the_speed():
    assert lead_for_speed(0) == lead_for_speed(1) == 4.0
    assert lead_for_speed(3) == 12.0


@pytest.mark.parametrize("close_after", [2.6, 3.3], ids=["prompt-server", "late-server"])
def test_hours_of_speech_keep_only_the_recent_segments_and_place_as_before(close_after):
    """Old segments are dropped as the stream goes on; the sentences after are placed as with all
    of them."""
    # 100 min: a second of speech every 2 s
    speech = [(2.0 * n + 1.0, 2.0 * n + 2.0) for n in range(3001)]
    everything = SpeechAligner(timeline(*speech))
    live = SpeechTimeline()
    forgetting = SpeechAligner(live)
    for n in range(3000):
        for start, end in speech[n:n + 2] if n == 0 else speech[n + 1:n + 2]:  # heard by the close
            live.apply(SpeechStarted(start))
            live.apply(SpeechEnded(end))
        for event in sentence(n, 2.0 * n + 1.5, [2.0 * n + 2.2], 2.0 * n + close_after):
            assert forgetting.event(event) == everything.event(event)
        # as the session does, --max-buffer 120 s
        forgetting.forget(live.forget_before(2.0 * n - 120.0))
    assert len(live.segments) < 400 and live.segments[-1] == everything.timeline.segments[-1]


def test_an_empty_sentence_takes_no_speech():
    # The server sends "" while the first sentence is spoken, then that sentence.
    line = timeline((1.0, 2.0), (3.0, 4.0), (5.0, 6.0))
    placed = finals(line, sentence(0, 1.5, [], 1.6, text=" "), sentence(1, 1.6, [2.3], 3.4, "one"),
                    sentence(2, 3.4, [4.3], 5.4, "two"), sentence(3, 5.4, [6.3], 7.0, "three"))
    assert placed == [(1.5, 1.6, "arrival"), (1.0, 2.0, "speech"), (3.0, 4.0, "speech"),
                      (5.0, 6.0, "speech")]


def test_a_server_later_than_the_lead_keeps_arrival_times_instead_of_the_next_sentences_speech():
    speech = [(1.0 + 3.0 * n, 2.5 + 3.0 * n) for n in range(8)]
    firsts = [start + 5.3 for start, _ in speech] + [speech[-1][1] + 6.0]
    events = [sentence(n, firsts[n], [end + 5.0], firsts[n + 1])
              for n, (_, end) in enumerate(speech)]
    placed = finals(timeline(*speech), *events)
    assert len(placed) == 8
    for (start, end, timing), (true_start, _), first in zip(placed, speech, firsts):
        assert end > start
        assert timing == "arrival" and start == first or (timing, start) == ("speech", true_start)
    assert [timing for _, _, timing in placed].count("arrival") >= 7


def test_speech_that_begins_as_the_final_arrives_is_not_the_sentence():
    line = timeline((4.0, 5.0))
    assert finals(line, sentence(0, 4.0, [], 4.0)) == [(4.0, 4.0, "arrival")]


def test_a_burst_of_noise_before_a_sentence_is_not_its_beginning():
    # 0.4 s of noise (the detector holds on 240 ms more), then three sentences.
    line = timeline((0.8, 1.44), (2.2, 4.1), (5.1, 6.8), (7.8, 10.8))
    placed = finals(line, sentence(0, 2.7, [4.5], 5.6), sentence(1, 5.6, [7.3], 8.3),
                    sentence(2, 8.3, [11.2], 11.6))
    assert placed == [(2.2, 4.1, "speech"), (5.1, 6.8, "speech"), (7.8, 10.8, "speech")]
