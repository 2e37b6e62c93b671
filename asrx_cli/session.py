"""A transcription session: wiring and lifecycle of one stream to the server.

Three threads take part:

- the decoder (`audio.readahead.ReadAhead`) reads the source, converts it to
  16 kHz mono s16le, finds the speech in it (`audio.tracked.SpeechTracker`)
  and cuts it into frames, ahead of the sender;
- the sender (`pacer.Pacer`) sends each frame when it is due and then the
  end-of-stream message; it only sends and sleeps, and tells the main thread
  what it did through a queue of messages;
- the main thread receives the server's messages, places sentences on the
  speech (`align.SpeechAligner`), renders the transcript and draws the
  progress bar.

In a batch, a worker thread of `batch.run` takes the main thread's part.

Whatever ends the session (the end marker, an error, Ctrl-C), the sentences
already received are written out first.
"""

import dataclasses
import logging
import queue
import time
from typing import Callable, ContextManager, Optional, TextIO

from asrx_cli.align import SpeechAligner, lead_for_speed
from asrx_cli.audio import AudioSource
from asrx_cli.audio.inputs import counted, open_input
from asrx_cli.audio.readahead import ReadAhead, cut_frames
from asrx_cli.audio.recording import Recording, recording
from asrx_cli.audio.tracked import SpeechTracker
from asrx_cli.config import TranscribeConfig, is_loopback
from asrx_cli.connection import Closed, Connection, check_url
from asrx_cli.environment import Environment
from asrx_cli.errors import AudioError, ConnectionFailed, ExitStatus, Interrupted, ServerStalled, UsageError
from asrx_cli.interrupt import InterruptFlag
from asrx_cli.levelmeter import LevelMeter, MeterUntilWords
from asrx_cli.logs import setup_logging
from asrx_cli.pacer import Ending, Finished, Pacer
from asrx_cli.progress import progress_bar
from asrx_cli.protocol import EndOfProcess, Ignored, Transcript
from asrx_cli.render import Renderer, make_renderer, open_output
from asrx_cli.speech import SpeechTimeline
from asrx_cli.stats import RunStats, stats_block

log = logging.getLogger("asrx")

# How often the receiver looks up from an idle socket to hear from the sender:
# often enough for a progress bar, else seldom (each wake-up costs CPU).
POLL_SECONDS = 1.0
PROGRESS_POLL_SECONDS = 0.25
NORMAL_CLOSURE = 1000
READ_AHEAD_BLOCKS = 4  # blocks of frames the decoder may hold ready for the sender


def run_transcription(config: TranscribeConfig, env: Environment) -> int:
    prepare(config, env)
    transcribe_input(config, env, InterruptFlag(), lambda: open_output(config.output_path, env))
    return ExitStatus.SUCCESS


def prepare(config: TranscribeConfig, env: Environment):
    """Logging, and the checks every run makes before it opens anything."""
    setup_logging(env.stderr, config.verbose, config.quiet, secrets=[config.api_key])
    host = check_url(config.url)
    if not config.api_key:
        raise UsageError("no API key: set ASRX_API_KEY, pass --api-key, or put api_key in the config file")
    if config.url.startswith("ws://") and not is_loopback(host):
        log.warning("the API key travels unencrypted to %s over ws://; use wss://", host)
    if config.reads_stdin and env.stdin_isatty:
        raise UsageError("stdin is a terminal: pipe audio into `asrx transcribe -`, or give a file")


def transcribe_input(config: TranscribeConfig, env: Environment, interrupt: "InterruptFlag",
                     output: Callable[[], ContextManager[TextIO]],
                     on_audio: Optional[Callable[[int], None]] = None):
    """Transcribe the input `config` names into the stream `output()` opens once the input is open.

    `on_audio(n)` hears of every n bytes of 16 kHz audio read, from the decoder thread.
    """
    meter = _level_meter(config, env)
    source = open_input(config, env.stdin, interrupt.stop, meter.show if meter else None)
    log.info("audio: %s", source.description)
    if on_audio is not None:
        source = dataclasses.replace(source, blocks=counted(source.blocks, on_audio))
    try:
        with output() as out, recording(config.save_audio) as recorder, interrupt.installed():
            renderer = make_renderer(
                config.output_format, out, live=_is_live(config, env),
                partials=config.partials, columns=env.columns,
            )
            if meter:
                renderer = MeterUntilWords(renderer, meter)
            Session(config, env, source, renderer, interrupt, recorder).run()
    finally:
        source.close()


def _level_meter(config: TranscribeConfig, env: Environment) -> Optional[LevelMeter]:
    """The microphone's status line, for a user who watches stderr on a terminal."""
    if not config.mic or config.quiet or not env.stderr_isatty:
        return None
    return LevelMeter(env.stderr, env.columns)


def _is_live(config: TranscribeConfig, env: Environment) -> bool:
    return config.output_path is None and env.stdout_isatty


class SenderState:
    """The main thread's view of the sender, built from the messages it sends."""

    def __init__(self, on_progress=None):
        self.news: "queue.SimpleQueue" = queue.SimpleQueue()
        self.on_progress = on_progress
        self.seconds = 0.0  # audio sent
        self.ending = False  # the end-of-stream message is going or has gone out
        self.finished: Optional[Finished] = None

    def update(self):
        """Take in every message the sender has sent so far."""
        seconds = self.seconds
        while True:
            try:
                message = self.news.get_nowait()
            except queue.Empty:
                break
            self.seconds = message.seconds
            if isinstance(message, Ending):
                self.ending = True
            elif isinstance(message, Finished):
                self.finished = message
                self.ending = message.end_sent
        if self.on_progress is not None and self.seconds != seconds:
            self.on_progress(self.seconds)

    @property
    def unexpected_error(self) -> Optional[BaseException]:
        """A failure of the sender that ends the session now.

        Audio and connection failures are reported later, once the server has
        said what it still has to say; a server that stopped reading has nothing.
        """
        error = self.finished.error if self.finished else None
        later = isinstance(error, (AudioError, ConnectionFailed)) and not isinstance(error, ServerStalled)
        return None if later else error


class Session:
    def __init__(self, config: TranscribeConfig, env: Environment, source: AudioSource,
                 renderer: Renderer, interrupt: InterruptFlag, recorder: Optional[Recording] = None):
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

    def run(self):
        connection = Connection.open(self.config.url, self.config.api_key, self.config.ca_file,
                                     self.config.connect_timeout, self.config.send_timeout)
        bar = progress_bar(self.config, self.env, self.source.duration)
        sender = SenderState(bar.update if bar else None)
        self.poll_seconds = PROGRESS_POLL_SECONDS if bar else POLL_SECONDS
        try:
            send_audio = self.recorder.tap(connection.send_audio) if self.recorder else connection.send_audio
            # The decoder thread finds the speech as it reads: never the sender's thread.
            blocks = self.tracker.analyse(self.source.blocks)
            with ReadAhead(cut_frames(blocks, self.config.chunk_bytes), READ_AHEAD_BLOCKS) as frames, \
                    Pacer(frames, send_audio, connection.send_end_of_stream,
                          self.config.effective_speed, self.interrupt.stop, sender.news.put):
                try:
                    self._receive(connection, sender)
                except BaseException:
                    connection.abort()  # unblocks a sender waiting on the socket
                    raise
                finally:
                    sender.update()
                    self._flush(sender.seconds)  # however it ends, the open sentence is kept
                    self.renderer.close()
        except BaseException:
            connection.abort()  # a second Ctrl-C while the sender is stopping: no polite close
            raise
        finally:
            if bar:
                bar.close()
            connection.close()
        if self.config.stats:
            self._report_stats()
        if self.interrupt.pressed:
            raise Interrupted(f"interrupted after {sender.seconds:.1f} s of audio")

    def _receive(self, connection: Connection, sender: SenderState):
        while True:
            sender.update()
            if sender.unexpected_error is not None:
                raise sender.unexpected_error
            if self.interrupt.abandon.is_set():
                raise Interrupted(f"interrupted again after {sender.seconds:.1f} s of audio")
            frame = connection.recv(self._wait_time(sender))
            sender.update()
            self._note_progress(sender.seconds)
            if isinstance(frame, Closed):
                self._closed_by_server(frame, sender)
                return
            if frame is not None and self._handle_frame(frame, sender.seconds):
                return
            self._check_deadline(sender)  # after every frame too: a stream of other frames is no answer

    def _end_marker_due(self, sender: SenderState) -> Optional[float]:
        """When the end marker is overdue (monotonic clock), once the sender has finished."""
        if sender.finished is None:
            return None
        return sender.finished.at + self.config.final_timeout

    def _wait_time(self, sender: SenderState) -> float:
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
        self.stats.progress(offset)

    def _emit(self, event):
        event = self.aligner.event(event)
        self.stats.event(event)
        self.renderer.event(event)

    def _report_stats(self):
        self.stats.finish()
        record = self.stats.record()
        self.renderer.stats(record)
        self.env.stderr.write(stats_block(record))
        self.env.stderr.flush()

    def _closed_by_server(self, closed: Closed, sender: SenderState):
        log.info("< closed: %s", closed)
        if not sender.ending:
            raise ConnectionFailed(f"the server closed the connection mid-stream ({closed}) "
                                   f"after {sender.seconds:.1f} s of audio")
        if closed.code != NORMAL_CLOSURE:
            raise ConnectionFailed(f"the server closed the connection before the end marker ({closed})")
        log.warning("the server closed the connection without an end marker")

    def _check_deadline(self, sender: SenderState):
        due = self._end_marker_due(sender)
        if due is None or time.monotonic() < due:
            return
        raise ConnectionFailed(f"no end marker from the server within {self.config.final_timeout:g} s "
                               "of the end of the audio")
