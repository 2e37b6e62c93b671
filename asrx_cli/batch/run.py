"""Running a batch: a pool of workers, one file each at a time; Ctrl-C in the main thread.

Each worker plays the part a single run's main thread plays for its session
(receiving, rendering), beside that session's decoder and sender threads.
The real main thread only waits for the workers, draws the bar and takes
Ctrl-C: the first stops the files not yet started and ends the running
sessions the way a single run ends (what was sent is transcribed and kept);
the second exits at once.
"""

import contextlib
import dataclasses
import logging
import os
import queue
import tempfile
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Dict, List

from asrx_cli.batch.outputs import SharedLines, output_file
from asrx_cli.batch.plan import Item, plan
from asrx_cli.batch.summary import STOPS_THE_BATCH, Outcome, Result, exit_status, summary_line
from asrx_cli.batch.tally import batch_bar
from asrx_cli.config import TranscribeConfig
from asrx_cli.environment import Environment
from asrx_cli.errors import AsrxError, ExitStatus, Interrupted, OutputClosed, UsageError
from asrx_cli.output.guard import refuse_inputs_as_outputs
from asrx_cli.output.journal import journal_path, plan_journal
from asrx_cli.stream.interrupt import InterruptFlag
from asrx_cli.transcription import prepare, transcribe_input
from asrx_cli.wire import BYTES_PER_SECOND

log = logging.getLogger("asrx")

DRAW_SECONDS = 0.25  # how often the main thread redraws the bar while it waits
ABANDON_SECONDS = 3.0  # on a second Ctrl-C, the longest wait for the sessions to end
LAST_LINE_WAIT = 1.0  # then, how long to let a line being written finish


def run_batch(config: TranscribeConfig, env: Environment) -> int:
    prepare(config, env)
    planned = plan(config)
    items = planned.items
    refuse_inputs_as_outputs([item.path for item in items],
                             [("--output-dir", path) for item in items if item.output
                              for path in (item.output, item.partial, journal_path(item.output))
                              if path is not None])
    if config.output_dir is not None:
        check_writable(config.output_dir)
    outcomes = [Outcome(Item(path, None, 0.0), Result.SKIPPED) for path in planned.skipped]
    todo = []
    for item in items:
        if not config.overwrite and item.output and os.path.exists(item.output):
            log.info("%s: already done (%s)", item.path, item.output)
            outcomes.append(Outcome(item, Result.DONE_BEFORE))
        else:
            todo.append(item)
    terminated = False
    if todo:
        batch = Batch(config, env, todo)
        outcomes += batch.run()
        terminated = batch.interrupt.terminated
    status = exit_status(outcomes)
    if status == ExitStatus.INTERRUPTED and terminated:
        status = ExitStatus.TERMINATED  # SIGTERM, handled as Ctrl-C
    if status == ExitStatus.PIPE_CLOSED:
        raise OutputClosed()
    if status != ExitStatus.SUCCESS or not config.quiet:
        env.stderr.write(f"asrx: {summary_line(outcomes)}\n")
    return status


def check_writable(folder: str):
    """Before any audio is sent: a folder that cannot take a file fails now, not after streaming.

    A file is really made and written there (permissions alone tell root nothing:
    a read-only or full file system refuses it all the same).
    """
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {folder}: {exc.strerror}") from None
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".asrx-") as probe:
            probe.write(b"\n")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        raise UsageError(f"cannot write in {folder}: {exc.strerror}") from None


class Batch:
    def __init__(self, config: TranscribeConfig, env: Environment, items: List[Item]):
        self.config = config
        self.env = env
        self.items = items
        # Sessions draw nothing on the terminals: the batch has one bar and plain lines.
        self.job_env = dataclasses.replace(env, stdout_isatty=False, stderr_isatty=False)
        self.lines = SharedLines(env.stdout, config.output_format)
        self.interrupt = InterruptFlag()  # Ctrl-C and SIGTERM, in the main thread only
        self.stopping = threading.Event()  # no new file starts: Ctrl-C, or a failure all would meet
        self.job_stops = [InterruptFlag() for _ in items]  # pressed by the main thread
        # (index, bytes) from the decoders
        self.audio_read: "queue.SimpleQueue" = queue.SimpleQueue()
        self.bar = batch_bar(config, env, sum(item.duration for item in items), len(items))

    def run(self) -> List[Outcome]:
        bar = self.bar
        futures: Dict[Future, int] = {}
        with self.interrupt.installed(), ThreadPoolExecutor(self.config.jobs, "asrx-job") as pool:
            try:
                futures = {pool.submit(self._transcribe, index): index
                           for index in range(len(self.items))}
                self._wait(futures, bar)
            except KeyboardInterrupt:
                self._abandon(futures, bar)
            finally:
                if bar:
                    bar.close()
        return [future.result() for future in futures]

    def _wait(self, futures: Dict[Future, int], bar):
        pending = set(futures)
        seconds = [0.0] * len(self.items)
        while pending:
            _, pending = wait(pending, DRAW_SECONDS, FIRST_COMPLETED)
            if self.interrupt.pressed or self.stopping.is_set():
                self._stop_all()
            if not bar:
                continue
            while not self.audio_read.empty():
                index, size = self.audio_read.get()
                seconds[index] += size / BYTES_PER_SECOND
            finished = [future.result() for future in futures if future.done()]
            for future in futures:
                if future.done():
                    seconds[futures[future]] = self.items[futures[future]].duration
            bar.update(sum(seconds), len(finished),
                       sum(1 for o in finished if o.result is Result.FAILED))

    def _stop_all(self):
        """Files not started stay so; running sessions end as a single run ends on Ctrl-C."""
        self.stopping.set()
        for stop in self.job_stops:
            if not stop.pressed:
                stop.press()

    def _transcribe(self, index: int) -> Outcome:
        """A worker's whole part in one file; whatever happens, an outcome."""
        item = self.items[index]
        if self.stopping.is_set():
            return Outcome(item, Result.NOT_STARTED)
        config = dataclasses.replace(self.config, audio=item.path, inputs=(item.path,), batch=False)
        journal = None
        if item.output:  # an earlier run's incomplete output goes on, unless --overwrite
            journal = plan_journal(config, item.path, item.output, resume=not config.overwrite)
        journal_file = journal.path if journal else None
        output = ((lambda: output_file(item, journal_file)) if item.output
                  else (lambda: self.lines.stream(item)))
        # Only a bar reads the news of audio read: without one, it would pile up.
        on_audio = (lambda size: self.audio_read.put((index, size))) if self.bar else None
        try:
            transcribe_input(config, self.job_env, self.job_stops[index], output, on_audio=on_audio,
                             journal=journal)
        except Interrupted:
            return Outcome(item, Result.INTERRUPTED)
        except AsrxError as exc:
            return self._failed(item, exc)
        except Exception as exc:  # a bug: this file fails, the others go on
            return self._failed(item, AsrxError(f"internal error: {type(exc).__name__}: {exc}"))
        log.info("%s: transcribed", item.path)
        return Outcome(item, Result.TRANSCRIBED)

    def _failed(self, item: Item, error: AsrxError) -> Outcome:
        if isinstance(error, STOPS_THE_BATCH):
            self.stopping.set()  # at once: the main thread ends the running sessions
        log.info("%s: failed: %s", item.path, error.message)
        return Outcome(item, Result.FAILED, error)

    def _abandon(self, futures: Dict[Future, int], bar):
        """The second Ctrl-C: every session ends now, keeping what came, as a single run's does."""
        self.stopping.set()
        for stop in self.job_stops:
            stop.abandon.set()
        try:
            _, pending = wait(futures, ABANDON_SECONDS)
            stuck = bool(pending)
        except KeyboardInterrupt:
            stuck = True
        if stuck:  # a worker stuck on a connection or a stalled reader of stdout
            self._exit_now(bar)

    def _exit_now(self, bar):
        """Leave without the workers; outputs not complete keep their .partial name."""
        self.lines.lock.acquire(timeout=LAST_LINE_WAIT)  # not in the middle of a line on stdout
        if bar:
            bar.close()
        with contextlib.suppress(OSError, ValueError):
            self.env.stdout.flush()
            self.env.stderr.write("asrx: interrupted\n")
            self.env.stderr.flush()
        os._exit(ExitStatus.INTERRUPTED)
