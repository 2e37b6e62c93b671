"""`asrx serve` given more real-time sessions of read speech than its engine decodes in real time.

Overload is shed as overload: new sessions are refused with 503 and sessions under way closed
with 1013, and a client that answers the server's pings is never closed for not answering them
(1011, keepalive ping timeout), however far behind the engine is. Real server, one engine process,
real recordings sent at real time by clients that answer pings; outcomes asserted, not times.
"""

import asyncio
import json

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from asrx_cli.wire import BYTES_PER_SECOND, FRAME_BYTES
from tests.support.serving import start_server
from tests.support.speech import END_OF_STREAM, LIBRIVOX, needs_testdata, read_pcm

pytestmark = needs_testdata

# One engine process decodes about seven streams of read speech in real time (make bench, figure 8:
# 14 on two).
SESSIONS = 30
STAGGER = 0.3  # seconds between the sessions' starts


async def session(url: str, pcm: bytes, delay: float) -> tuple:
    """('refused', HTTP status) or (close code, close reason, texts received)."""
    await asyncio.sleep(delay)
    try:
        ws = await connect(url, compression=None, ping_interval=None, open_timeout=60)
    except InvalidStatus as refused:
        return "refused", refused.response.status_code
    texts = []

    async def receive():
        try:
            async for message in ws:  # reading all along: the server's pings are answered
                texts.append(json.loads(message)["text"])
        except ConnectionClosed:
            pass  # not by a normal closure: the close code says why

    receiver, started = asyncio.create_task(receive()), asyncio.get_running_loop().time()
    try:
        for offset in range(0, len(pcm), FRAME_BYTES):
            due = started + offset / BYTES_PER_SECOND
            await asyncio.sleep(max(0.0, due - asyncio.get_running_loop().time()))
            await ws.send(pcm[offset:offset + FRAME_BYTES])
        await ws.send(json.dumps(END_OF_STREAM))
    except ConnectionClosed:
        pass  # closed by the server: its close frame says why
    await asyncio.wait_for(receiver, 120)
    await ws.close()
    return ws.close_code, ws.close_reason, texts


def test_overload_is_refused_with_503_and_shed_with_1013_never_blamed_on_the_clients_pings():
    pcm = b"".join(read_pcm(path) for path in sorted(LIBRIVOX.glob("*.wav"))[:3])  # 15 s
    server = start_server(workers=1, limits=dict(max_sessions=1000, keepalive=2.0, close_wait=1.0))
    try:
        async def everyone():
            sessions = (session(server.url, pcm, n * STAGGER) for n in range(SESSIONS))
            return await asyncio.gather(*sessions)

        outcomes = asyncio.run(everyone())
    finally:
        server.stop()
    refused = [o for o in outcomes if o[0] == "refused"]
    shed = [o for o in outcomes if o[0] == 1013]
    whole = [o for o in outcomes if o[0] == 1000]
    assert all(o[1] == 503 for o in refused)
    assert all("overloaded" in reason for _, reason, _ in shed)
    assert len(refused) + len(shed) + len(whole) == SESSIONS, [o[:2] for o in outcomes]  # no 1011
    assert refused or shed
    assert whole and all("end_of_process" in texts and len(texts) > 1 for _, _, texts in whole)
