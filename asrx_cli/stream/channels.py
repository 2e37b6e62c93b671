"""--channels split: a session per channel of the input, all at once, into one output.

The input is read once, by the splitter (audio/split.py), which hands each
channel's samples to that channel's session; their senders pace on one
schedule (stream/sender.py, `SharedStart`). Each session is the
single-channel `Session`, run on a thread of its own, with its own decoder,
sender, reconnects and replay: a channel that loses its connection replays
alone while the others go on. Their renderers label what they write and
share one output (output/labels.py).

The main thread only waits and takes Ctrl-C: the first stops every channel
the way a single run stops (what was sent is transcribed and printed), the
second ends them at once. A channel that fails (a refused key, a server
gone for good) stops the others the same way, and its error ends the run.
"""

import dataclasses
import functools
import logging
import queue
import threading
from typing import Callable, List, Optional

from asrx_cli.audio.channel_recording import ChannelsRecording
from asrx_cli.audio.source import AudioSource
from asrx_cli.audio.split import ChannelSplitter
from asrx_cli.config import TranscribeConfig
from asrx_cli.environment import Environment
from asrx_cli.errors import Interrupted, UsageError
from asrx_cli.output.labels import Labelled, SharedOutput, channel_names
from asrx_cli.output.levelmeter import LevelMeter, MeterUntilWords
from asrx_cli.output.render import Renderer
from asrx_cli.stream.interrupt import InterruptFlag
from asrx_cli.stream.sender import SharedStart
from asrx_cli.stream.session import Session
from asrx_cli.transcript.stats import RunStats, stats_block

log = logging.getLogger("asrx")

WAIT_SECONDS = 0.25  # how often the main thread looks at the Ctrl-C flag while it waits
ABANDON_SECONDS = 3.0  # on a second Ctrl-C, the longest wait for the sessions to end


class ChannelSession(Session):
    """A channel's session, which says when its first connection is open, and whose first sender
    paces on the schedule all channels share; after a reconnect, the channel's replay goes out
    on a schedule of its own, as a single run's does, and the others' stays as it was."""

    def __init__(self, *args, connected: Callable[[], None], start: SharedStart,
                 horizon: Callable[[float], None], **options):
        super().__init__(*args, **options)
        self._connected: Optional[Callable[[], None]] = connected
        self._start: Optional[SharedStart] = start
        self._horizon = horizon

    def _note_progress(self, offset: float):
        """Tells the output how early the channel's next sentence may start: a final only covers
        audio already sent, and its speech began at most the aligner's lead before its first
        words came (those of the open sentence, if one is open; else the next words, which
        can come no earlier than now)."""
        super()._note_progress(offset)
        first_words = self.transcript.start
        self._horizon((offset if first_words is None else first_words) - self.aligner.lead)

    def _schedule_start(self) -> Optional[SharedStart]:
        start, self._start = self._start, None
        return start

    def _connect(self):
        connection = super()._connect()
        if self._connected is not None:
            connected, self._connected = self._connected, None
            connected()
        return connection


class Countdown:
    """Calls `action` at the `count`th call: the splitter starts once every channel is connected."""

    def __init__(self, count: int, action: Callable[[], None]):
        self._left = count
        self._action = action
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self._left -= 1
            due = self._left == 0
        if due:
            self._action()


def checked_names(config: TranscribeConfig, source: AudioSource) -> List[str]:
    names = channel_names(list(config.channel_names), source.channels)
    if len(names) != source.channels:
        raise UsageError(f"--channel-names gives {len(names)} name{'s' if len(names) != 1 else ''} "
                         f"({','.join(names)}) but the input has {source.channels} "
                         f"channel{'s' if source.channels != 1 else ''}")
    return names


class ChannelRun:
    def __init__(self, config: TranscribeConfig, env: Environment, source: AudioSource,
                 interrupt: InterruptFlag, meter: Optional[LevelMeter] = None):
        self.config = config
        self.env = env
        self.source = source
        self.interrupt = interrupt  # the run's, installed in the main thread
        self.meter = meter
        self.names = checked_names(config, source)
        self.flags = [InterruptFlag() for _ in self.names]  # pressed by the main thread
        self.ending = threading.Event()  # every channel is being stopped
        self.finished: "queue.SimpleQueue" = queue.SimpleQueue()  # indices of sessions that ended
        self.errors: List[Optional[Exception]] = [None] * len(self.names)
        self.failures: List[Exception] = []  # in the order they came

    def run(self, out, recorder: Optional[ChannelsRecording]):
        config = self.config
        live = config.output_path is None and self.env.stdout_isatty
        shared = SharedOutput(config.output_format, out, live, config.partials, self.env.columns,
                              len(self.names), config.max_line_width, config.max_lines)
        with ChannelSplitter(self.source, self.ending) as splitter:
            start = Countdown(len(self.names), splitter.start)
            schedule = SharedStart()
            sessions = [self._session(index, channel, shared, recorder, start, schedule)
                        for index, channel in enumerate(splitter.sources())]
            threads = [threading.Thread(target=self._run_one, args=(index, session), daemon=True,
                                        name=f"asrx-channel-{index + 1}")
                       for index, session in enumerate(sessions)]
            for thread in threads:
                thread.start()
            try:
                self._wait(len(threads))
            except KeyboardInterrupt:
                self._abandon(threads)
        shared.close()
        seconds = max(session.stats.audio_seconds for session in sessions)
        if config.stats:
            self._report_stats(sessions, shared)
        if self.failures:
            raise self.failures[0]
        if self.interrupt.pressed:
            raise self.interrupt.stopped(seconds)

    def _session(self, index: int, source: AudioSource, shared: SharedOutput,
                 recorder: Optional[ChannelsRecording], start: Countdown,
                 schedule: SharedStart) -> ChannelSession:
        renderer: Renderer = Labelled(shared, index, self.names[index])
        if self.meter:
            renderer = MeterUntilWords(renderer, self.meter)
        # One progress bar: the first channel's, which counts the input's audio once.
        env = self.env if index == 0 else dataclasses.replace(self.env, stderr_isatty=False)
        config = dataclasses.replace(self.config, stats=False)  # reported here, each and in total
        return ChannelSession(config, env, source, renderer, self.flags[index],
                              recorder.channel(index) if recorder else None, connected=start,
                              start=schedule, horizon=functools.partial(shared.progress, index))

    def _run_one(self, index: int, session: ChannelSession):
        try:
            session.run()
        except Exception as exc:  # handed to the main thread
            self.errors[index] = exc
        finally:
            self.finished.put(index)

    def _wait(self, count: int):
        while count:
            try:
                index = self.finished.get(timeout=WAIT_SECONDS)
            except queue.Empty:
                index = None
            if index is not None:
                count -= 1
                error = self.errors[index]
                if error is not None and not isinstance(error, Interrupted):
                    log.info("channel %s: %s", self.names[index], error)
                    self.failures.append(error)
                    self._stop_all()
            if self.interrupt.pressed:
                self._stop_all()

    def _stop_all(self):
        """Every channel ends as a single run ends on Ctrl-C: what was sent is transcribed."""
        self.ending.set()
        for flag in self.flags:
            if not flag.pressed:
                flag.press()

    def _abandon(self, threads: List[threading.Thread]):
        """The second Ctrl-C: every session ends now, keeping what came."""
        self._stop_all()
        for flag in self.flags:
            flag.abandon.set()
        for thread in threads:
            thread.join(ABANDON_SECONDS)
        self.failures.insert(0, Interrupted("interrupted again"))

    def _report_stats(self, sessions: List[ChannelSession], shared: SharedOutput):
        for session, name in zip(sessions, self.names):
            session.stats.finish()
            record = session.stats.record()
            session.renderer.record(record)
            self._write_stats(_headed(stats_block(record), f"channel {name}"))
        record = total_stats([session.stats for session in sessions]).record()
        shared.record({**record, "channels": len(sessions)})
        self._write_stats(_headed(stats_block(record), "all channels"))

    def _write_stats(self, text: str):
        self.env.stderr.write(text)
        self.env.stderr.flush()


def _headed(block: str, whose: str) -> str:
    return block.replace("asrx: stats", f"asrx: stats, {whose}", 1)


def total_stats(channels: List[RunStats]) -> RunStats:
    """The run's figures over all channels: its audio once, its sentences and reconnects summed."""
    total = RunStats()
    total.started = min(stats.started for stats in channels)
    total.ended = max(stats.ended or stats.clock() for stats in channels)
    total.audio_seconds = max(stats.audio_seconds for stats in channels)
    total.sentences = sum(stats.sentences for stats in channels)
    total.speech_timed = sum(stats.speech_timed for stats in channels)
    firsts = [stats.first_partial for stats in channels if stats.first_partial is not None]
    total.first_partial = min(firsts) if firsts else None
    total.latencies = [latency for stats in channels for latency in stats.latencies]
    total.reconnects = sum(stats.reconnects for stats in channels)
    return total
