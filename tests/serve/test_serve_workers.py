"""The server's engine processes, driven directly: streams opened and closed by the thousand."""

import asyncio

from asrx_cli.server.workers import WorkerPool
from tests.support.serving import resident_kib
from tests.support.speech import needs_testdata, silence

pytestmark = needs_testdata


async def open_and_close(pool, sessions):
    for _ in range(sessions):
        stream = await pool.open_stream()  # as a client that connects and leaves at once
        stream.close()
    # Calls to a worker run in order: once this one is answered, every close has run.
    last = await pool.open_stream()
    await last.feed(silence(0.1))
    last.close()


def test_thousands_of_sessions_do_not_grow_an_engine_process():
    async def measure():
        pool = WorkerPool("pocketsphinx", 1, timeout=30.0)
        await pool.start()
        try:
            [pid] = pool.pids
            await open_and_close(pool, 200)  # the allocator settles
            before = resident_kib(pid)
            await open_and_close(pool, 1000)
            return before, resident_kib(pid)
        finally:
            await pool.stop()

    before, after = asyncio.run(measure())
    # A leak of 19 KB a session, as pocketsphinx's Endpointer has, would be 19 MB.
    assert after - before < 4 * 1024, f"grew by {after - before} KiB over 1000 sessions"
