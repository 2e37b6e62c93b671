"""A transcription session: wiring and lifecycle of one stream to the server.

Three threads take part (four for a file libsndfile decodes):

- the decoder (`audio.readahead.ReadAhead`) reads the source, converts it to
  16 kHz mono s16le, finds the speech in it (`audio.tracked.SpeechTracker`),
  cuts it into frames and masks them for the wire (`connection.masked_ahead`),
  ahead of the sender; for a file libsndfile reads, a file reader thread
  decodes the next blocks meanwhile (`audio.file`);
- the sender (`sender.Sender`) sends each frame when it is due and then the
  end-of-stream message; it only sends and sleeps, and tells the main thread
  what it did through a queue of messages;
- the main thread receives the server's messages, places sentences on the
  speech (`align.SpeechAligner`), renders the transcript and draws the
  progress bar.

In a batch, a worker thread of `batch.run` takes the main thread's part.

A lost connection is followed by a new one (`reconnect.Reconnector`): the
decoder and the frames kept to be sent again (`replay.Feed`) outlive it, each
connection has a sender of its own, which starts where the main thread rewound
the feed (`replay.Feed.rewind`, between sessions).

Whatever ends the run (the end marker, an error, Ctrl-C), the sentences
already received are written out first.
"""

import logging
import time
from typing import Callable, Optional

from asrx_cli.audio import AudioSource
from asrx_cli.audio.readahead import ReadAhead, cut_frames
from asrx_cli.audio.recording import Recording
from asrx_cli.audio.tracked import SpeechTracker
from asrx_cli.config import TranscribeConfig
from asrx_cli.environment import Environment
from asrx_cli.errors import ConnectionFailed, Interrupted
from asrx_cli.net.connection import Closed, Connection, masked_ahead
from asrx_cli.output.progress import progress_bar
from asrx_cli.output.render import Renderer
from asrx_cli.stream.feed import Feed
from asrx_cli.stream.interrupt import InterruptFlag
from asrx_cli.stream.reconnect import (
    Lost,
    Reconnector,
    late_for,
    lost_by_close,
    retriable,
    session_speed,
)
from asrx_cli.stream.replay import ReplayPlanner
from asrx_cli.stream.sender import Sender, SessionStop
from asrx_cli.stream.sender_view import SenderView
from asrx_cli.transcript.align import SpeechAligner, lead_for_speed
from asrx_cli.transcript.events import EndOfProcess, Ignored, Transcript
from asrx_cli.transcript.stats import RunStats, stats_block
from asrx_cli.transcript.timeline import SpeechTimeline
from asrx_cli.wire import BYTES_PER_SECOND

log = logging.getLogger("asrx")

# How often the receiver looks up from an idle socket to hear from the sender:
# often enough for a progress bar, else seldom (each wake-up costs CPU).
POLL_SECONDS = 1.0
PROGRESS_POLL_SECONDS = 0.25
NORMAL_CLOSURE = 1000
PING_SECONDS = 2.0  # while the input pauses
LAST_WORDS_SECONDS = 0.2  # after a failed send, how long what the server still says is read
READ_AHEAD_BLOCKS = 4  # blocks of frames the decoder may hold ready for the sender


class SessionLost(Exception):
    """The session ended before its time; the run goes on in a new one."""

    def __init__(self, lost: Lost):
        super().__init__(lost.cause)
        self.lost = lost


class Session:
    def __init__(self, config: TranscribeConfig, env: Environment, source: AudioSource,
                 renderer: Renderer, interrupt: InterruptFlag,
                 recorder: Optional[Recording] = None):
        self.config = config
        self.env = env
        self.source = source
        self.renderer = renderer
        self.interrupt = interrupt
        self.recorder = recorder
        self.transcript = Transcript()
        self.timeline = SpeechTimeline()
        self.aligner = SpeechAligner(self.timeline, lead_for_speed(config.effective_speed))
        self.stats = RunStats()
        self.tracker = SpeechTracker()
        self.planner = ReplayPlanner()
        self.pinged = 0.0  # monotonic

    def run(self):
        reconnector = Reconnector(self.config, self.renderer, self.interrupt, self._connect)
        connection = reconnector.first_connection()
        bar = progress_bar(self.config, self.env, self.source.duration)
        self.poll_seconds = PROGRESS_POLL_SECONDS if bar else POLL_SECONDS
        sender = SenderView(bar.update if bar else None)
        # The decoder thread finds the speech as it reads: never the sender's thread.
        blocks = self.tracker.analyse(self.source.blocks)
        try:
            backlog = (int(self.config.max_buffer * BYTES_PER_SECOND) if self.config.is_live
                       else None)
            frames = masked_ahead(cut_frames(blocks, self.config.chunk_bytes))
            # The run's stop, which the source polls: whatever ends the run stops the reading now.
            with ReadAhead(frames, READ_AHEAD_BLOCKS, backlog, stop=self.interrupt.stop) as reader:
                feed = Feed(reader, self.config.max_buffer)
                catching_up = False
                while True:
                    started = time.monotonic()
                    sender = SenderView(bar.update if bar else None, sender.seconds)
                    speed = session_speed(self.config, catching_up)
                    lost = self._stream(connection, feed, sender, speed)
                    if lost is None:
                        break
                    reader.hold(True)  # a live input is read on while no session takes it
                    late = late_for(speed, lost.seconds - sender.origin, time.monotonic() - started)
                    connection = self._next_session(lost, feed, reconnector, late)
                    # a pipe that ran ahead has nothing to catch up on
                    catching_up = not reader.hold(False)
        finally:
            sender.update()
            self._flush(sender.seconds)  # however it ends, the open sentence is kept
            self.renderer.close()
            if bar:
                bar.close()
        if self.config.stats:
            self._report_stats()
        if self.interrupt.pressed:
            raise self.interrupt.stopped(sender.seconds)

    def _next_session(self, lost: Lost, feed: Feed, reconnector: Reconnector,
                      late: float) -> Connection:
        """A new connection, and the feed rewound to where every sentence not yet final begins."""
        self.stats.reconnects += 1
        self._note_progress(lost.seconds)
        replay = self.planner.plan(self.timeline, lost.seconds, feed.kept_from, late,
                                   self.transcript.start)
        if replay.cut:  # the open sentence as far as it went
            self._flush(lost.seconds)
        if lost.idle:
            feed.wait_for_audio(self.interrupt.stop)  # input stalled: a new session when it goes on
        connection = reconnector.reconnect(lost, replay.start, replay.progress)
        feed.rewind(replay.start)
        self.transcript.resume(replay.echo_before)
        return connection

    def _schedule_start(self):
        """The t0 of this connection's sender (Sender.start); None: its first frame's time."""
        return None

    def _connect(self) -> Connection:
        assert self.config.api_key is not None  # transcription.prepare refuses a run without one
        return Connection.open(self.config.url, self.config.api_key, self.config.ca_file,
                               self.config.connect_timeout, self.config.send_timeout)

    def _stream(self, connection: Connection, feed: Feed, sender: SenderView,
                speed: float) -> Optional[Lost]:
        """One session: the feed's audio out, the transcript in; a `Lost` if it ended early."""
        send_audio: Callable[[bytes], None] = connection.send_audio
        if self.recorder:  # the input once, however much of it was sent twice
            send_audio = self.recorder.tap(connection.send_audio, feed.new_part)
        stop = SessionStop(self.interrupt.stop)
        try:
            with Sender(feed.frames(stop, sender.news.put), send_audio,
                        connection.send_end_of_stream, speed, stop, sender.news.put,
                        abandon=connection.abort, start=self._schedule_start()):
                lost = self._receive(connection, sender)
                if lost is not None:
                    # leaves the sender's context early: the connection is shut
                    raise SessionLost(lost)
        except SessionLost as ended:
            return ended.lost
        finally:
            sender.update()
            connection.close()
        return None

    def _receive(self, connection: Connection, sender: SenderView) -> Optional[Lost]:
        while True:
            sender.update()
            if sender.send_failed is not None and self._may_retry():
                return self._lost_sending(connection, sender)
            if sender.unexpected_error is not None:
                raise sender.unexpected_error
            if self.interrupt.abandon.is_set():
                raise Interrupted(f"interrupted again after {sender.seconds:.1f} s of audio")
            frame = connection.recv(self._wait_time(sender))
            sender.update()
            self._note_progress(sender.seconds)
            if isinstance(frame, Closed):
                return self._closed_by_server(frame, sender)
            if frame is not None and self._handle_frame(frame, sender.seconds):
                return None
            self._keep_alive(connection, sender)
            self._check_deadline(sender)  # each frame too: a stream of other frames is no answer

    def _keep_alive(self, connection: Connection, sender: SenderView):
        """A ping now and then while a live input pauses and the sender, waiting, sends nothing."""
        now = time.monotonic()
        if sender.starved and min(sender.idle_for(), now - self.pinged) >= PING_SECONDS:
            connection.ping()
            self.pinged = now

    def _may_retry(self) -> bool:
        return self.config.retries > 0 and not self.interrupt.stop.is_set()

    def _lost_sending(self, connection: Connection, sender: SenderView) -> Lost:
        """Sending failed: what the server said before it went (frames on their way, a close
        code) is kept."""
        deadline = time.monotonic() + LAST_WORDS_SECONDS
        while True:
            frame = connection.recv(max(deadline - time.monotonic(), 0.0))
            if isinstance(frame, Closed) and retriable(frame.code):
                return lost_by_close(frame, sender.seconds, sender.idle_for())
            if frame is None or isinstance(frame, Closed):
                failed = sender.send_failed
                assert failed is not None  # called once sending failed (_receive)
                return Lost(failed.message, sender.seconds)
            self._handle_frame(frame, sender.seconds)

    def _end_marker_due(self, sender: SenderView) -> Optional[float]:
        """When the end marker is overdue (monotonic clock), once the sender has finished."""
        if sender.finished is None:
            return None
        return sender.finished.at + self.config.final_timeout

    def _wait_time(self, sender: SenderView) -> float:
        due = self._end_marker_due(sender)
        if due is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(due - time.monotonic(), 0.0))

    def _handle_frame(self, frame, offset: float) -> bool:
        """Render a frame; True once the end marker has come."""
        log.info("< %s", frame if isinstance(frame, str) else f"<binary frame, {len(frame)} bytes>")
        self.renderer.frame(frame)
        ended = False
        for event in self.transcript.feed(frame, offset):
            if isinstance(event, Ignored):
                log.info("  ignored: %s", event.reason)
            elif isinstance(event, EndOfProcess):
                ended = True
            else:
                self._emit(event)
        return ended

    def _flush(self, offset: float):
        self._note_progress(offset)
        for event in self.transcript.finish(offset):
            self._emit(event)

    def _note_progress(self, offset: float):
        self.timeline.drain(self.tracker.changes)
        # Speech before the replay buffer is asked about no more: memory stays flat over hours.
        self.aligner.forget(self.timeline.forget_before(offset - self.config.max_buffer))
        self.stats.progress(offset)

    def _emit(self, event):
        event = self.aligner.event(event)
        self.planner.event(event)
        self.stats.event(event)
        self.renderer.event(event)

    def _report_stats(self):
        self.stats.finish()
        record = self.stats.record()
        self.renderer.record(record)
        self.env.stderr.write(stats_block(record))
        self.env.stderr.flush()

    def _closed_by_server(self, closed: Closed, sender: SenderView) -> Optional[Lost]:
        """A close before the end marker: a lost session unless final or the server's normal end."""
        log.info("< closed: %s", closed)
        normal_end = sender.ending and closed.code == NORMAL_CLOSURE
        # what it may not have had goes again
        if not normal_end and retriable(closed.code) and self._may_retry():
            return lost_by_close(closed, sender.seconds, sender.idle_for())
        if not sender.ending:
            raise ConnectionFailed(f"the server closed the connection mid-stream ({closed}) "
                                   f"after {sender.seconds:.1f} s of audio")
        if closed.code != NORMAL_CLOSURE:
            raise ConnectionFailed("the server closed the connection before the end marker "
                                   f"({closed})")
        log.warning("the server closed the connection without an end marker")
        return None

    def _check_deadline(self, sender: SenderView):
        due = self._end_marker_due(sender)
        if due is None or time.monotonic() < due:
            return
        raise ConnectionFailed("no end marker from the server within "
                               f"{self.config.final_timeout:g} s of the end of the audio")
