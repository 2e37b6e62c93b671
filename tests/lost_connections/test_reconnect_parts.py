"""The parts of a reconnect, one by one: backoff, replay point, the feed, the backlog, the transcript."""

import json
import threading

import pytest

from asrx_cli.audio.backlog import Backlog
from asrx_cli.audio.readahead import ReadAhead
from asrx_cli.messages import Gap, Resumed
from asrx_cli.stream.feed import Feed
from asrx_cli.stream.reconnect import (
    MAX_DELAY,
    PRE_ROLL,
    Retries,
    replay_point,
    retriable,
)
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


def test_a_session_that_ran_well_starts_the_count_again():
    retries = Retries(limit=2, base=0.1)
    assert retries.next_delay() is not None and retries.next_delay() is not None
    retries.session_lasted(5.0)
    assert retries.next_delay() is None
    retries.session_lasted(60.0)
    assert retries.next_delay() is not None and retries.attempt == 1


def test_close_codes_that_blame_the_client_are_final():
    assert [code for code in (None, 1000, 1001, 1002, 1003, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013)
            if not retriable(code)] == [1002, 1003, 1007, 1009, 1010]


def test_replay_starts_before_the_speech_no_final_has_taken():
    speech = timeline((1.0, 2.0), (3.0, 4.0), (6.0, None))
    aligner = SpeechAligner(speech)
    assert replay_point(speech, aligner, None, 6.5) == pytest.approx(1.0 - PRE_ROLL)
    # Sentence 0 spoke the first segment, and its final came once the second had begun.
    aligner.event(Partial(0, "one", 1.6))
    final = aligner.event(Final(0, "one", 1.6, 3.5))
    assert final.timing == "speech" and final.end == 2.0
    assert replay_point(speech, aligner, final, 6.5) == pytest.approx(3.0 - PRE_ROLL)
    assert replay_point(speech, aligner, final, 2.5) == 2.5  # never after what was sent


def test_replay_never_reaches_into_the_speech_of_the_last_final():
    speech = timeline((1.0, 2.0), (2.1, 4.0))
    aligner = SpeechAligner(speech)
    last = Final(0, "one", 1.0, 2.0, timing="speech")
    aligner.event(Partial(0, "one", 1.5))
    aligner.event(last)
    assert replay_point(speech, aligner, last, 4.5) >= 2.0


def test_with_no_speech_left_to_say_the_replay_is_a_short_overlap():
    speech = timeline((1.0, 2.0))
    aligner = SpeechAligner(speech)
    aligner.event(Partial(0, "one", 1.5))
    last = aligner.event(Final(0, "one", 1.5, 2.5))
    assert replay_point(speech, aligner, last, 9.0) == pytest.approx(9.0 - PRE_ROLL)


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
        assert sent == pcm[:len(sent)] and news == [Resumed(0.0)]
        feed.rewind(0.5)  # within a frame: from that very sample
        rest = b"".join(feed.frames(stop, news.append))
    assert news[-1] == Resumed(0.5)
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
