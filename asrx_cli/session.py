"""A transcription session: wiring and lifecycle of one stream to the server.

The pacer thread reads and sends audio; the main thread receives the server's
messages and renders them. Whatever ends the session (the end marker, an
error, Ctrl-C), the sentences already received are written out first.
"""

import contextlib
import logging
import signal
import threading
import time
from typing import Optional

from asrx_cli.align import SpeechAligner, lead_for_speed
from asrx_cli.audio import AudioSource, open_source
from asrx_cli.audio.tracked import SpeechTracker
from asrx_cli.config import TranscribeConfig, is_loopback
from asrx_cli.connection import Closed, Connection, check_url
from asrx_cli.environment import Environment
from asrx_cli.errors import AudioError, ConnectionFailed, ExitStatus, Interrupted, UsageError
from asrx_cli.logs import setup_logging
from asrx_cli.pacer import Pacer
from asrx_cli.protocol import EndOfProcess, Ignored, Transcript
from asrx_cli.render import Renderer, make_renderer
from asrx_cli.speech import SpeechTimeline
from asrx_cli.stats import RunStats, stats_block

log = logging.getLogger("asrx")

POLL_SECONDS = 0.25  # how often the receiver looks up from an idle socket
NORMAL_CLOSURE = 1000


def run_transcription(config: TranscribeConfig, env: Environment) -> int:
    setup_logging(env.stderr, config.verbose, config.quiet, secrets=[config.api_key])
    host = check_url(config.url)
    if not config.api_key:
        raise UsageError("no API key: set ASRX_API_KEY, pass --api-key, or put api_key in the config file")
    if config.url.startswith("ws://") and not is_loopback(host):
        log.warning("the API key travels unencrypted to %s over ws://; use wss://", host)
    if config.reads_stdin and env.stdin_isatty:
        raise UsageError("stdin is a terminal: pipe audio into `asrx transcribe -`, or give a file")
    interrupt = InterruptFlag()
    source = open_source(config.audio, config.raw_format, config.raw_format_given, env.stdin, interrupt.stop)
    log.info("audio: %s", source.description)
    try:
        with open_output(config.output_path, env) as out, interrupt.installed():
            renderer = make_renderer(
                config.output_format, out, live=_is_live(config, env),
                partials=config.partials, columns=env.columns,
            )
            Session(config, env, source, renderer, interrupt).run()
    finally:
        source.close()
    return ExitStatus.SUCCESS


def _is_live(config: TranscribeConfig, env: Environment) -> bool:
    return config.output_path is None and env.stdout_isatty


@contextlib.contextmanager
def open_output(path: Optional[str], env: Environment):
    if path is None or path == "-":
        yield env.stdout
        return
    try:
        out = open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    with out:
        yield out


class InterruptFlag:
    """Ctrl-C handling: the first press stops the audio, the second ends at once."""

    def __init__(self):
        self.stop = threading.Event()
        self.pressed = False

    def _handle(self, signum, frame):
        # Only flags here; the second press gets Python's default (KeyboardInterrupt).
        self.pressed = True
        self.stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    @contextlib.contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)


class Session:
    def __init__(self, config: TranscribeConfig, env: Environment, source: AudioSource,
                 renderer: Renderer, interrupt: InterruptFlag):
        self.config = config
        self.env = env
        self.source = source
        self.renderer = renderer
        self.interrupt = interrupt
        self.transcript = Transcript()
        self.timeline = SpeechTimeline()
        self.aligner = SpeechAligner(self.timeline, lead_for_speed(config.effective_speed))
        self.stats = RunStats()
        self.tracker: Optional[SpeechTracker] = None

    def run(self):
        connection = Connection.open(self.config.url, self.config.api_key, self.config.ca_file,
                                     self.config.connect_timeout)
        progress = self._progress_bar()
        try:
            # Speech is found where the audio is read, never on the sending thread.
            with SpeechTracker(self.source.blocks) as self.tracker:
                pacer = Pacer(self.tracker.blocks, connection.send_audio, connection.send_json,
                              self.config.chunk_bytes, self.config.effective_speed, self.interrupt.stop,
                              on_progress=progress.update if progress else None)
                with pacer:
                    try:
                        self._receive(connection, pacer)
                    except BaseException:
                        connection.abort()  # unblocks a sender waiting on the socket
                        raise
                    finally:
                        self._flush(pacer.seconds_sent)  # however it ends, the open sentence is kept
                        self.renderer.close()
        finally:
            if progress:
                progress.close()
            connection.close()
        if self.config.stats:
            self._report_stats()
        if self.interrupt.pressed:
            raise Interrupted(f"interrupted after {pacer.seconds_sent:.1f} s of audio")

    def _receive(self, connection: Connection, pacer: Pacer):
        while True:
            if pacer.error is not None and not isinstance(pacer.error, (AudioError, ConnectionFailed)):
                raise pacer.error
            frame = connection.recv(self._wait_time(pacer))
            offset = pacer.seconds_sent
            self._note_progress(offset)
            if isinstance(frame, Closed):
                self._closed_by_server(frame, pacer)
                return
            if frame is None:
                self._check_deadline(pacer)
                continue
            if self._handle_frame(frame, offset):
                return

    def _end_marker_due(self, pacer: Pacer) -> float:
        """When the end marker is overdue (monotonic clock), once the sender has finished."""
        return pacer.finished_at + self.config.final_timeout

    def _wait_time(self, pacer: Pacer) -> float:
        if not pacer.finished:
            return POLL_SECONDS
        return min(POLL_SECONDS, max(self._end_marker_due(pacer) - time.monotonic(), 0.0))

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

    def _closed_by_server(self, closed: Closed, pacer: Pacer):
        log.info("< closed: %s", closed)
        if not pacer.end_sent:
            raise ConnectionFailed(f"the server closed the connection mid-stream ({closed}) "
                                   f"after {pacer.seconds_sent:.1f} s of audio")
        if closed.code != NORMAL_CLOSURE:
            raise ConnectionFailed(f"the server closed the connection before the end marker ({closed})")
        log.warning("the server closed the connection without an end marker")

    def _check_deadline(self, pacer: Pacer):
        if not pacer.finished or time.monotonic() < self._end_marker_due(pacer):
            return
        raise ConnectionFailed(f"no end marker from the server within {self.config.final_timeout:g} s "
                               "of the end of the audio")

    def _progress_bar(self):
        show = (self.env.stderr_isatty and not self.config.quiet and self.source.duration
                and (self.config.output_path is not None or not self.env.stdout_isatty))
        if not show:
            return None
        from tqdm import tqdm

        return ProgressBar(tqdm(total=round(self.source.duration, 1), unit="s", file=self.env.stderr,
                                leave=False, dynamic_ncols=True,
                                bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s [{elapsed}<{remaining}]"))


class ProgressBar:
    """Feeds absolute positions to tqdm, which counts increments."""

    def __init__(self, bar):
        self.bar = bar

    def update(self, seconds: float):
        position = round(min(seconds, self.bar.total), 1)
        if position > self.bar.n:
            self.bar.update(position - self.bar.n)

    def close(self):
        self.bar.close()
