"""The server's side of its worker processes (see worker.py).

A session opens an EngineStream on the least busy worker. Requests to one
worker are answered in order, so a session's audio is fed in pieces of at
most half a second: a long frame then cannot hold up the other sessions of
that worker for long.
"""

import asyncio
import itertools
import os
import sys
from pathlib import Path

from asrx_cli.server import ipc
from asrx_cli.wire import BYTES_PER_SECOND

LARGEST_FEED_BYTES = BYTES_PER_SECOND // 2
STARTUP_TIMEOUT = 120.0
STOP_TIMEOUT = 5.0


class EngineFailed(Exception):
    """The engine raised, or its worker process died."""


def _worker_environment() -> dict:
    # The worker imports asrx_cli; make sure it finds this very copy.
    package_root = str(Path(__file__).resolve().parents[2])
    environment = dict(os.environ)
    paths = [package_root] + [p for p in environment.get("PYTHONPATH", "").split(os.pathsep) if p]
    environment["PYTHONPATH"] = os.pathsep.join(paths)
    return environment


class WorkerProcess:
    def __init__(self, engine_name: str):
        self.engine_name = engine_name
        self.streams = 0
        self._process = None
        self._reader_task = None
        self._pending = {}
        self._request_ids = itertools.count()
        self.alive = False

    @property
    def pid(self) -> int:
        return self._process.pid

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "asrx_cli.server.worker", self.engine_name,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env=_worker_environment(),
            # Out of the terminal's process group: Ctrl-C is the server's to handle.
            start_new_session=True,
        )
        try:
            status, detail = await asyncio.wait_for(ipc.read_async(self._process.stdout), STARTUP_TIMEOUT)
        except asyncio.IncompleteReadError:
            status, detail = "failed", "the worker process exited while loading the engine"
        except asyncio.TimeoutError:
            status, detail = "failed", f"the engine did not load within {STARTUP_TIMEOUT:g} s"
        if status != "ready":
            await self.stop()
            raise EngineFailed(f"cannot start the {self.engine_name} engine: {detail}")
        self.alive = True
        self._reader_task = asyncio.create_task(self._read_replies())

    async def call(self, stream_id: int, operation: str, payload=None):
        if not self.alive:
            raise EngineFailed("the speech engine's worker process is gone")
        request_id = next(self._request_ids)
        reply = asyncio.get_running_loop().create_future()
        self._pending[request_id] = reply
        try:
            self._process.stdin.write(ipc.encode((request_id, stream_id, operation, payload)))
            await self._process.stdin.drain()
            return await reply
        except (ConnectionError, RuntimeError) as exc:
            raise EngineFailed(f"the speech engine's worker process is gone ({exc})") from None
        finally:
            self._pending.pop(request_id, None)

    async def _read_replies(self) -> None:
        try:
            while True:
                request_id, ok, result = await ipc.read_async(self._process.stdout)
                reply = self._pending.get(request_id)
                if reply is None or reply.done():
                    continue  # its session was cancelled meanwhile
                if ok:
                    reply.set_result(result)
                else:
                    reply.set_exception(EngineFailed(result))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.alive = False
            for reply in self._pending.values():
                if not reply.done():
                    reply.set_exception(EngineFailed("the speech engine's worker process died"))

    async def stop(self) -> None:
        self.alive = False
        process = self._process
        if process is None:
            return
        if process.stdin and not process.stdin.is_closing():
            process.stdin.close()  # end of input: the worker returns
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
        if self._reader_task is not None:
            await self._reader_task


class EngineStream:
    """One session's audio, decoded by one worker."""

    def __init__(self, worker: WorkerProcess, stream_id: int):
        self._worker = worker
        self._id = stream_id
        self._closed = False

    async def feed(self, pcm: bytes) -> list:
        hypotheses = []
        for start in range(0, len(pcm), LARGEST_FEED_BYTES):
            piece = pcm[start:start + LARGEST_FEED_BYTES]
            hypotheses += await self._worker.call(self._id, "feed", piece)
        return hypotheses

    async def finish(self) -> list:
        return await self._worker.call(self._id, "finish")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._worker.streams -= 1
        if self._worker.alive:
            try:
                await self._worker.call(self._id, "close")
            except EngineFailed:
                pass  # a dead worker holds no stream


class WorkerPool:
    def __init__(self, engine_name: str, size: int):
        self.engine_name = engine_name
        self.size = size
        self._workers = []
        self._stream_ids = itertools.count()
        self._replacing = asyncio.Lock()

    @property
    def alive(self) -> bool:
        return any(worker.alive for worker in self._workers)

    @property
    def pids(self) -> list:
        return [worker.pid for worker in self._workers if worker.alive]

    async def start(self) -> None:
        self._workers = [WorkerProcess(self.engine_name) for _ in range(self.size)]
        results = await asyncio.gather(*(w.start() for w in self._workers), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            await self.stop()
            raise failures[0]

    async def open_stream(self) -> EngineStream:
        await self._replace_dead_workers()
        candidates = [w for w in self._workers if w.alive]
        if not candidates:
            raise EngineFailed("no speech engine worker is running")
        worker = min(candidates, key=lambda w: w.streams)
        stream = EngineStream(worker, next(self._stream_ids))
        worker.streams += 1
        try:
            await worker.call(stream._id, "open")
        except BaseException:
            await stream.close()
            raise
        return stream

    async def _replace_dead_workers(self) -> None:
        async with self._replacing:
            await self._replace_dead_workers_locked()

    async def _replace_dead_workers_locked(self) -> None:
        for index, worker in enumerate(self._workers):
            if not worker.alive:  # its sessions fail on their own; new ones go to the replacement
                await worker.stop()
                replacement = WorkerProcess(self.engine_name)
                await replacement.start()
                self._workers[index] = replacement

    async def stop(self) -> None:
        await asyncio.gather(*(w.stop() for w in self._workers), return_exceptions=True)
