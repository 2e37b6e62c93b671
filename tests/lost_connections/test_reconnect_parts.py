"""The parts of a reconnect, one by one: backoff, replay point, the feed, the backlog, the
transcript."""

import json
import threading

import pytest

from asrx_cli.audio.backlog import Backlog
from asrx_cli.audio.readahead import ReadAhead
from asrx_cli.messages import Gap, Resumed, Starved
from asrx_cli.stream.feed import Feed
from asrx_cli.stream.reconnect import (
    MAX_DELAY,
    PROGRESS_SECONDS,
    Retries,
    Said,
    replay_point,
    retriable,
)
from asrx_cli.stream.replay import ReplayPlanner
from asrx_cli.transcript.align import SpeechAligner
from asrx_cli.transcript.events import Final, Partial, Transcript
from asrx_cli.wire import BYTES_PER_SECOND
from tests.support.scripted import new_sentence, sentence
from tests.support.speech import timeline


def test_backoff_doubles_up_to_the_limit_with_full_jitter():
    drawn = []
    retries = Retries(limit=7, base=0.5, draw=lambda low, high: drawn.append((low, high)) or high)
    delays = [retries.next_delay() for _ in range(8)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, MAX_DELAY, None]
    assert all(low == 0.0 for low, _ in drawn)  # full jitter: anywhere from nothing to the cap


def test_only_a_session_that_moves_the_replay_point_on_starts_the_count_again():
    retries = Retries(limit=2, base=0.1)
    assert retries.next_delay() is not None and retries.next_delay() is not None
    retries.progressed(0.2)  # sent again what went before: however long it ran, no progress
    assert retries.next_delay() is None
    retries.progressed(PROGRESS_SECONDS)
    assert retries.next_delay() is not None and retries.attempt == 1


def test_close_codes_that_blame_the_client_are_final():
    assert [code for code in (None, 1000, 1001, 1002, 1003, 1006, 1007, 1008, 1009, 1010, 1011,
                              1012, 1013)
            if not retriable(code)] == [1002, 1003, 1007, 1009, 1010]


def said(speech, *events, late=1.5, open_since=None):
    """What the planner knows once the aligner has placed `events` on `speech`."""
    aligner, planner = SpeechAligner(speech), ReplayPlanner()
    for event in events:
        planner.event(aligner.event(event))
    return planner, Said(planner.last_final, planner._final_heard, late, open_since)


def test_with_nothing_final_the_replay_starts_at_the_beginning():
    speech = timeline((1.0, 2.0), (3.0, 4.0), (6.0, None))
    assert replay_point(speech, Said(), 6.5) == 0.0


def test_the_replay_starts_where_the_detector_and_the_server_agree_the_last_final_ended():
    speech = timeline((1.0, 2.0), (3.0, 4.0), (6.0, None))
    # Sentence 0 spoke the first segment; its text last changed at 2.6, its final came at 3.5.
    # The next sentence's first words came with that final: its speech began at 3.0, after the
    # pause.
    _, known = said(speech, Partial(0, "one", 1.6), Partial(0, "one two", 2.6),
                    Final(0, "one two", 1.6, 3.5), open_since=3.5)
    assert known.last_final.timing == "speech" and known.last_final.end == 2.0
    assert replay_point(speech, known, 6.5) == 2.0
    assert replay_point(speech, known, 1.5) == 1.5  # never after what was sent
    # Had the detector heard no onset before the next sentence's first words, it missed one.
    blind = timeline((1.0, 2.0), (6.0, None))
    _, unheard = said(blind, Partial(0, "one", 1.6), Partial(0, "one two", 2.6),
                      Final(0, "one two", 1.6, 3.5), open_since=3.5)
    assert replay_point(blind, unheard, 6.5) == pytest.approx(2.6 - 1.5)


def test_speech_the_detector_ran_into_the_next_sentence_is_not_trusted():
    # One segment holds two sentences: the second's words came at 3.5, and closed the first there.
    speech = timeline((1.0, 6.0))
    _, known = said(speech, Partial(0, "one", 1.6), Partial(0, "one two", 3.0),
                    Final(0, "one two", 1.6, 3.5))
    assert known.last_final.end == 3.5  # cut through the speech, where the final came
    # The first sentence's words were all heard by 3.0, at most 1.5 s after they were spoken.
    assert replay_point(speech, known, 5.0) == pytest.approx(3.0 - 1.5)


def test_a_detector_that_missed_the_end_of_the_speech_is_corrected_by_the_server():
    # The detector heard the first second only (a tone, say); the text changed until 5.0.
    speech = timeline((1.0, 2.0))
    _, known = said(speech, Partial(0, "one", 1.6), Partial(0, "one two three", 5.0),
                    Final(0, "one two three", 1.6, 6.0))
    assert replay_point(speech, known, 9.0) == pytest.approx(5.0 - 1.5)


def test_with_no_speech_heard_after_the_last_final_the_replay_starts_where_it_ended():
    speech = timeline((1.0, 2.0))
    _, known = said(speech, Partial(0, "one", 1.5), Final(0, "one", 1.5, 2.5))
    assert replay_point(speech, known, 9.0) == 2.0


def test_arrival_times_replay_from_before_the_last_final_s_last_words():
    _, known = said(timeline(), Partial(0, "one", 1.5), Partial(0, "one two", 3.0),
                    Final(0, "one two", 1.5, 4.0))
    assert known.last_final.timing == "arrival"
    assert replay_point(timeline(), known, 9.0) == pytest.approx(3.0 - 1.5)


def test_a_sentence_sent_again_that_gets_no_further_is_cut_at_the_drop():
    speech, planner = timeline((0.5, None)), ReplayPlanner()
    planner.event(Partial(0, "one", 1.0))
    first = planner.plan(speech, 10.0, 0.0, 1.5, open_since=1.0)
    assert (first.start, first.cut, first.progress) == (0.0, False, 0.0)
    again = planner.plan(speech, 10.0, 0.0, 1.5, open_since=1.0)  # the replay dropped as far on
    assert (again.start, again.cut, again.progress) == (10.0, True, 10.0)
    # The next goes on from the cut, and is sent again from there once before it is cut again.
    assert planner.plan(speech, 20.0, 0.0, 1.5, open_since=10.5).start == 10.0
    assert planner.plan(speech, 20.0, 0.0, 1.5, open_since=10.5).start == 20.0


def test_a_replay_lost_before_the_server_said_anything_is_sent_again_not_skipped():
    # A fast pipe: the replay from 0 went out quicker than the server answered; no words came.
    speech, planner = timeline((0.5, None)), ReplayPlanner()
    assert planner.plan(speech, 2.0, 0.0, 1.5, open_since=None).start == 0.0
    again = planner.plan(speech, 4.0, 0.0, 1.5, open_since=None)
    assert (again.start, again.cut, again.progress) == (0.0, False, 0.0)  # no progress: counted


def test_a_replay_that_got_further_than_before_is_sent_again_until_it_gets_no_further():
    # The sentence ended at 9.5; the first drop came in it, the second 1.2 s further, before
    # the server had said it was over: another connection may last long enough.
    speech, planner = timeline((0.5, None)), ReplayPlanner()
    planner.event(Partial(0, "one", 1.0))
    assert planner.plan(speech, 9.0, 0.0, 1.5, open_since=1.0).start == 0.0
    further = planner.plan(speech, 10.2, 0.0, 1.5, open_since=1.0)
    assert (further.start, further.cut) == (0.0, False)
    assert planner.plan(speech, 10.5, 0.0, 1.5, open_since=1.0).cut  # no further: too long


def test_a_replay_dropped_sooner_than_before_is_sent_again():
    speech, planner = timeline((0.5, None)), ReplayPlanner()
    planner.event(Partial(0, "one", 1.0))
    assert planner.plan(speech, 10.0, 0.0, 1.5, open_since=1.0).start == 0.0
    # cuts in quick succession
    assert planner.plan(speech, 4.0, 0.0, 1.5, open_since=1.0).start == 0.0


def test_an_open_sentence_older_than_the_audio_kept_is_cut_and_the_true_point_reported(caplog):
    speech, planner = timeline((0.5, None)), ReplayPlanner()
    planner.event(Partial(0, "one", 1.0))
    replay = planner.plan(speech, 130.0, 10.0, 1.5, open_since=1.0)
    assert (replay.start, replay.cut) == (130.0, True)
    assert "--max-buffer" in caplog.text and "cut at 130.0 s" in caplog.text
    # With no sentence under way, the oldest audio kept is sent again.
    assert ReplayPlanner().plan(speech, 130.0, 10.0, 1.5, open_since=None).start == 10.0


def frames_of(seconds: float, size: int = 1024):
    pcm = bytes(range(256)) * (int(seconds * BYTES_PER_SECOND) // 256)
    return pcm, [pcm[i:i + size] for i in range(0, len(pcm), size)]


def test_the_feed_sends_again_from_the_rewind_with_positions_in_the_input():
    pcm, frames = frames_of(2.0)
    with ReadAhead(iter([frames[:20], frames[20:]]), 2) as reader:
        feed = Feed(reader, keep_seconds=10)
        news, stop = [], threading.Event()
        first = feed.frames(stop, news.append)
        sent = b"".join(next(first) for _ in range(30))
        positions = [message for message in news if not isinstance(message, Starved)]
        assert sent == pcm[:len(sent)] and positions == [Resumed(0.0)]  # Starved: it waited
        feed.rewind(0.5)  # within a frame: from that very sample
        rest = b"".join(feed.frames(stop, news.append))
    assert [message for message in news if isinstance(message, Resumed)][-1] == Resumed(0.5)
    assert rest == pcm[int(0.5 * BYTES_PER_SECOND):]


def test_the_feed_keeps_only_so_much_to_send_again():
    pcm, frames = frames_of(3.0)
    with ReadAhead(iter([frames]), 2) as reader:
        feed = Feed(reader, keep_seconds=1.0)
        news, stop = [], threading.Event()
        first = feed.frames(stop, news.append)
        for _ in range(80):  # 2.56 s
            next(first)
        feed.rewind(0.0)
        again = feed.frames(stop, news.append)
        next(again)
    oldest = news[-1].seconds
    assert 2.56 - 1.0 - 0.033 <= oldest <= 2.56 - 1.0 + 0.001


def test_the_backlog_waits_for_the_sender_unless_held_and_then_drops_the_oldest():
    backlog = Backlog(depth=2, limit_bytes=3000)
    backlog.hold(True)
    for n in range(5):
        backlog.put(([bytes([n]) * 1000], None))
    items = []
    while not backlog.empty():
        items.append(backlog.get_nowait()[0])
    assert isinstance(items[0], Gap) and items[0].bytes == 2000
    assert [batch[0][0] for batch in items[1:]] == [2, 3, 4]


def test_a_new_session_s_first_sentence_continues_the_open_one():
    transcript = Transcript()
    frames = [sentence("one"), new_sentence("two")]
    events = [e for frame in frames for e in transcript.feed(json.dumps(frame), 1.0)]
    assert [e for e in events if isinstance(e, Final)] == [Final(0, "one", 1.0, 1.0)]
    transcript.resume()
    events = transcript.feed(json.dumps(new_sentence("two three")), 2.0)
    assert events == [Partial(1, "two three", 2.0)]  # no final for the sentence cut short
    events = transcript.feed(json.dumps(new_sentence("four")), 3.0)
    assert events == [Final(1, "two three", 1.0, 3.0), Partial(2, "four", 3.0)]


def test_with_nothing_final_no_sentence_of_the_replay_is_taken_for_one_said_before():
    speech, planner = timeline(), ReplayPlanner()
    planner.event(Partial(0, "one", 3.0))
    assert planner.plan(speech, 4.0, 0.0, 1.5, open_since=3.0).echo_before is None


def test_a_sentence_said_again_is_told_from_the_open_one_halfway_between_them():
    speech, planner = timeline(), ReplayPlanner()
    for event in (Partial(0, "one", 1.0), Final(0, "one two", 1.0, 6.0), Partial(1, "three", 6.0)):
        planner.event(event)
    replay = planner.plan(speech, 8.0, 0.0, 1.5, open_since=6.0)
    assert replay.start == 1.0 and replay.echo_before == pytest.approx(3.5)


def resumed(echo_before):
    """A transcript with "one two" final and "three four" open when the connection was lost."""
    transcript = Transcript()
    for frame, offset in ((sentence("one two"), 1.0), (new_sentence("three four"), 6.0)):
        transcript.feed(json.dumps(frame), offset)
    transcript.resume(echo_before)
    return transcript


def test_a_replay_hides_the_end_of_the_last_final_said_again():
    transcript = resumed(echo_before=3.5)
    assert transcript.feed(json.dumps(sentence("two")), 1.5)[0].reason.startswith("said before")
    assert transcript.feed(json.dumps(new_sentence("three")), 5.0) == [Partial(1, "three", 5.0)]


def test_the_open_sentence_sent_again_is_kept_however_early_its_words_come():
    # A server quicker than before: the open sentence's words come before the line; they begin as
    # its words began, so they are its.
    transcript = resumed(echo_before=3.5)
    assert transcript.feed(json.dumps(sentence("three")), 2.0) == [Partial(1, "three", 2.0)]
    events = transcript.feed(json.dumps(new_sentence("five")), 9.0)
    assert events[0] == Final(1, "three", 6.0, 9.0)
