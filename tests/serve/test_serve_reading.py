"""How the server reads its clients: every READ_INTERVAL, all that came meanwhile.

Real websockets servers with the server's own connection class on port 0, and
real clients. The CPU this saves is measured by `make bench` (figure 11);
here, that nothing is lost, delayed beyond the interval, or stuck by it.
"""

import asyncio
import functools
import time

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from asrx_cli.server.bounded import BoundedConnection
from asrx_cli.server.conversation import READ_INTERVAL
from asrx_cli.wire import FRAME_BYTES

FRAME_PERIOD = 0.032  # the documented client's: 1024 bytes of 16 kHz s16le


def reads(arrivals: list, apart: float = 0.05) -> list:
    """The arrival times grouped: messages that came within `apart` of each other came in one
    read."""
    groups = [[arrivals[0]]]
    for arrival in arrivals[1:]:
        if arrival - groups[-1][-1] < apart:
            groups[-1].append(arrival)
        else:
            groups.append([arrival])
    return groups


async def exchange(read_interval: float, frames: int, handler_pause: float = 0.0):
    """`frames` numbered frames sent at the documented client's pace; the server's arrival times,
    the frames as it got them, and how long a ping sent after them took to be answered."""
    arrivals, got = [], []

    async def handler(connection):
        await asyncio.sleep(handler_pause)  # not receiving: websockets' own queue fills up
        async for message in connection:
            arrivals.append(time.monotonic())
            got.append(message)

    factory = functools.partial(BoundedConnection, stall_timeout=30.0, read_interval=read_interval)
    async with serve(handler, "127.0.0.1", 0, create_connection=factory,
                     compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}", compression=None) as client:
            started = time.monotonic()
            for n in range(frames):
                await asyncio.sleep(max(0.0, started + n * FRAME_PERIOD - time.monotonic()))
                await client.send(n.to_bytes(4, "big") * (FRAME_BYTES // 4))
            await asyncio.sleep(READ_INTERVAL * 2)  # the server reading again only on its timer
            pinged = time.monotonic()
            await asyncio.wait_for(await client.ping(), 10)
            pong_after = time.monotonic() - pinged
        await asyncio.sleep(handler_pause + 1.0)  # the handler reads what is queued
    return arrivals, [int.from_bytes(frame[:4], "big") for frame in got], pong_after


def test_frames_sent_every_32_ms_are_read_a_few_at_a_time_none_lost():
    arrivals, numbers, pong_after = asyncio.run(exchange(READ_INTERVAL, frames=40))
    assert numbers == list(range(40))
    groups = reads(arrivals)
    # 1.28 s of frames: about seven reads, not forty.
    assert 4 <= len(groups) <= 12, [len(group) for group in groups]
    gaps = [later[0] - earlier[-1] for earlier, later in zip(groups, groups[1:])]
    assert min(gaps) >= READ_INTERVAL * 0.75, gaps
    assert pong_after < READ_INTERVAL + 1.0


def test_without_an_interval_each_frame_is_read_as_it_comes():
    arrivals, numbers, _ = asyncio.run(exchange(0.0, frames=40))
    assert numbers == list(range(40))
    assert len(reads(arrivals, apart=0.01)) >= 25  # the same measure sees the reads apart


def test_a_session_not_receiving_for_a_while_loses_nothing_and_is_not_stuck():
    # websockets pauses reading while its queue of messages is full, and resumes once the handler
    # takes them: the interval's timer must neither undo that pause nor keep reading off after it.
    arrivals, numbers, _ = asyncio.run(exchange(READ_INTERVAL, frames=60, handler_pause=1.5))
    assert numbers == list(range(60))
