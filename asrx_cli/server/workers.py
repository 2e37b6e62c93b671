"""The server's engine processes, each a one-process executor (see worker.py).

A `concurrent.futures.ProcessPoolExecutor` of one process per worker keeps a
session's transcriber in the process that made it and runs its calls in
order; asyncio's `run_in_executor` awaits them. Two things are written out
here because the standard library does not do them:

- placement: a session goes to the least busy worker and stays there (a
  pool of several processes would hand its calls to any of them);
- a watchdog: an executor cannot time out or stop a call under way. A worker
  that has work and finishes none of it for `timeout` seconds is stuck: its
  process is killed, which fails every call it holds (its sessions end with
  1011), and the next session to start replaces it.

A session's audio is fed in pieces of at most half a second, so that a long
frame cannot hold up the other sessions of its worker for long.
"""

import asyncio
import functools
import itertools
import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import List, Optional

from asrx_cli.server import worker as engine_process
from asrx_cli.server.log import os_error_text
from asrx_cli.server.settings import Limits
from asrx_cli.wire import BYTES_PER_SECOND

LARGEST_FEED_BYTES = BYTES_PER_SECOND // 2
STARTUP_TIMEOUT = 120.0
STOP_TIMEOUT = 1.0  # a healthy engine process exits in milliseconds
STALLED_AFTER = 1.0  # a call decodes at most half a second of audio: tens of milliseconds


class EngineFailed(Exception):
    """The engine raised, its worker process died, or it did not answer in time."""


class EngineWorker:
    def __init__(self, engine_name: str, timeout: float):
        self.engine_name = engine_name
        self.timeout = timeout
        self.streams = 0
        self.pid = None
        self.alive = True
        self._busy = 0  # calls submitted and not finished
        self._progress_at = 0.0  # when a call last finished, or work arrived at an idle worker
        try:  # out of file descriptors, even the executor's pipes cannot be made
            # spawn: a fresh interpreter, as forking a threaded server is not safe.
            self._executor = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"),
                initializer=engine_process.initialize, initargs=(engine_name,),
            )
        except OSError as error:
            raise self._cannot_start(os_error_text(error)) from None

    @property
    def stalled(self) -> bool:
        """Whether it has had work and finished none of it for STALLED_AFTER seconds: an overloaded
        process finishes calls all the time; this one may be stuck (see the watchdog)."""
        return self._busy > 0 and time.monotonic() - self._progress_at > STALLED_AFTER

    async def start(self) -> None:
        try:
            self.pid, failure = await self._call(STARTUP_TIMEOUT, engine_process.status)
        except EngineFailed as error:
            failure = str(error)
        if failure is not None:
            await self.stop()
            raise self._cannot_start(failure)

    def _cannot_start(self, why: str) -> EngineFailed:
        return EngineFailed(f"cannot start the {self.engine_name} engine: {why}")

    async def call(self, function, *args):
        """`function(*args)` in the worker process; EngineFailed if it fails or hangs."""
        return await self._call(self.timeout, function, *args)

    def cast(self, function, *args) -> None:
        """`function(*args)` in the worker process, without waiting for it or its failure."""
        if self.alive:
            try:
                self._submit(function, *args)
            except EngineFailed:
                pass  # a worker that is gone holds nothing to free

    async def stop(self) -> None:
        """Let the process finish and exit; kill it if it does not in time."""
        self.alive = False
        shutdown = functools.partial(self._executor.shutdown, wait=True, cancel_futures=True)
        stopped = asyncio.get_running_loop().run_in_executor(None, shutdown)
        done, _ = await asyncio.wait({stopped}, timeout=STOP_TIMEOUT)
        if not done:
            self._kill()
            await stopped

    async def _call(self, timeout: float, function, *args):
        if not self.alive:
            raise EngineFailed("the speech engine's worker process is gone")
        future = self._submit(function, *args)
        await self._wait(future, timeout)
        if future.cancelled():
            raise EngineFailed("the speech engine's worker process was stopped")
        error = future.exception()
        if isinstance(error, BrokenProcessPool):
            raise EngineFailed("the speech engine's worker process died")
        if error is not None:
            raise EngineFailed(f"{type(error).__name__}: {error}")
        return future.result()

    def _submit(self, function, *args) -> asyncio.Future:
        try:
            future = asyncio.get_running_loop().run_in_executor(self._executor, function, *args)
        except (BrokenProcessPool, RuntimeError):  # broken, or shut down
            self.alive = False
            raise EngineFailed("the speech engine's worker process is gone") from None
        except OSError as error:  # the executor starts its process with the first call
            self.alive = False
            raise EngineFailed(os_error_text(error)) from None  # start() says what could not start
        if self._busy == 0:
            self._progress_at = time.monotonic()
        self._busy += 1
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: asyncio.Future) -> None:
        self._busy -= 1
        self._progress_at = time.monotonic()
        # Read the outcome here, so that a call nobody awaits any more is not
        # reported as "exception never retrieved".
        if not future.cancelled() and isinstance(future.exception(), BrokenProcessPool):
            self.alive = False

    async def _wait(self, future: asyncio.Future, timeout: float) -> None:
        while not future.done():
            remaining = self._progress_at + timeout - time.monotonic()
            if remaining <= 0:
                self._kill()
                raise EngineFailed(f"the speech engine did not answer within {timeout:g} s")
            await asyncio.wait({future}, timeout=remaining)

    def _kill(self) -> None:
        """Stop a stuck process for good: the executor then fails all its calls."""
        self.alive = False
        if self.pid is not None:
            try:
                # Windows has no SIGKILL; there any signal terminates the process.
                os.kill(self.pid, getattr(signal, "SIGKILL", signal.SIGTERM))
            except ProcessLookupError:
                pass  # it died meanwhile
        self._executor.shutdown(wait=False, cancel_futures=True)


class EngineStream:
    """One session's audio, decoded by one worker."""

    def __init__(self, worker: EngineWorker, stream_id: int):
        self.worker = worker
        self.id = stream_id
        self._closed = False

    async def feed(self, pcm: bytes) -> list:
        hypotheses = []
        for start in range(0, len(pcm), LARGEST_FEED_BYTES):
            piece = pcm[start:start + LARGEST_FEED_BYTES]
            hypotheses += await self.worker.call(engine_process.feed, self.id, piece)
        return hypotheses

    async def finish(self) -> list:
        return await self.worker.call(engine_process.finish, self.id)

    def close(self) -> None:
        """Free the stream in its worker; the end of a session never waits on the engine."""
        if self._closed:
            return
        self._closed = True
        self.worker.streams -= 1
        self.worker.cast(engine_process.close_stream, self.id)


class WorkerPool:
    def __init__(self, engine_name: str, size: int, timeout: float,
                 idle_time: float = Limits.decoder_idle_time):
        self.engine_name = engine_name
        self.size = size
        self.timeout = timeout
        # What an engine keeps for sessions to come goes, unused this long.
        self.idle_time = idle_time
        self._workers: List[EngineWorker] = []
        self._stream_ids = itertools.count()
        self._replacing = asyncio.Lock()
        self._trimming: Optional[asyncio.Task] = None

    @property
    def alive(self) -> bool:
        return any(worker.alive for worker in self._workers)

    @property
    def pids(self) -> list:
        return [worker.pid for worker in self._workers if worker.alive]

    async def start(self) -> None:
        self._workers = [EngineWorker(self.engine_name, self.timeout) for _ in range(self.size)]
        results = await asyncio.gather(*(w.start() for w in self._workers), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            await self.stop()
            raise failures[0]
        self._trimming = asyncio.ensure_future(self._trim_idle())

    async def _trim_idle(self) -> None:
        """Ask the engines to free what has been idle for `idle_time`, every half of it: on a
        timer, as a burst of sessions may be followed by none."""
        while True:
            await asyncio.sleep(self.idle_time / 2)
            for worker in self._workers:
                worker.cast(engine_process.trim, self.idle_time)

    async def open_stream(self) -> EngineStream:
        await self._replace_failed_workers()
        candidates = [w for w in self._workers if w.alive]
        if not candidates:
            raise EngineFailed("no speech engine worker is running")
        worker = min(candidates, key=lambda w: w.streams)
        stream = EngineStream(worker, next(self._stream_ids))
        worker.streams += 1
        try:
            await worker.call(engine_process.open_stream, stream.id)
        except BaseException:
            stream.close()
            raise
        return stream

    async def _replace_failed_workers(self) -> None:
        async with self._replacing:
            for index, worker in enumerate(self._workers):
                if not worker.alive:
                    # Its sessions fail on their own; new ones go to the replacement.
                    await worker.stop()
                    replacement = EngineWorker(self.engine_name, self.timeout)
                    await replacement.start()
                    self._workers[index] = replacement

    async def stop(self) -> None:
        if self._trimming is not None:
            self._trimming.cancel()
        await asyncio.gather(*(w.stop() for w in self._workers), return_exceptions=True)
