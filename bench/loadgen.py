"""Concurrent real-time streams of speech to an ASRX server, from one asyncio process.

One light process drives every stream (rather than one client process per
stream), so that the machine's cores go to the server under test. Each
stream sends one utterance per session at real time, in 1024-byte frames on
an absolute schedule, then the end-of-stream message, and notes when its
messages arrive; then it starts the next session, until the trial is over.

The latency of a session: from the moment the frame holding the end of
speech was sent to the arrival of the last text message (the final text).
"""

import asyncio
import json
import time
from dataclasses import dataclass
from typing import List, Optional

from websockets.asyncio.client import connect

from speech import Utterance

FRAME_BYTES = 1024
BYTES_PER_SECOND = 32000
END_OF_STREAM = json.dumps({"data": {"status": "CloseConnection"}})
END_MARKERS = ("end_of_process", "Confirm Close Connection")
SESSION_TIMEOUT = 60.0


@dataclass
class Session:
    utterance: str
    audio_seconds: float = 0.0
    latency: Optional[float] = None  # seconds; None when no text came
    text: str = ""
    send_lateness: float = 0.0  # the generator's own worst lateness against its schedule
    error: Optional[str] = None


async def _receive(ws, arrivals: list):
    async for message in ws:
        now = time.monotonic()
        if isinstance(message, bytes):
            continue
        data = json.loads(message)
        if data.get("text") in END_MARKERS:
            return
        if "state" in data:
            arrivals.append((now, data.get("text", "")))


async def _send(ws, utterance: Utterance, session: Session) -> float:
    """Send at real time; return when the frame holding the end of speech left."""
    loop = asyncio.get_running_loop()
    started, end_byte, speech_sent = loop.time(), int(utterance.speech_end * BYTES_PER_SECOND), None
    for offset in range(0, len(utterance.pcm), FRAME_BYTES):
        due = started + offset / BYTES_PER_SECOND
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        session.send_lateness = max(session.send_lateness, loop.time() - due)
        await ws.send(utterance.pcm[offset:offset + FRAME_BYTES])
        if speech_sent is None and offset + FRAME_BYTES >= end_byte:
            speech_sent = time.monotonic()
    session.audio_seconds = len(utterance.pcm) / BYTES_PER_SECOND
    await ws.send(END_OF_STREAM)
    return speech_sent


async def stream_once(url: str, api_key: str, utterance: Utterance) -> Session:
    session = Session(utterance.name)
    arrivals = []
    try:
        async with connect(url, additional_headers={"apikey": api_key}, compression=None,
                           max_size=None, ping_interval=None, open_timeout=SESSION_TIMEOUT) as ws:
            receiver = asyncio.create_task(_receive(ws, arrivals))
            speech_sent = await _send(ws, utterance, session)
            await asyncio.wait_for(receiver, SESSION_TIMEOUT)
    except Exception as exc:  # any failure makes the trial fail; keep its words
        session.error = f"{type(exc).__name__}: {exc}"
        return session
    if not arrivals:
        session.error = "no text"
        return session
    session.latency = arrivals[-1][0] - speech_sent
    session.text = arrivals[-1][1]
    return session


async def _stream_loop(url, api_key, utterances, first, start_delay, deadline) -> List[Session]:
    await asyncio.sleep(start_delay)
    sessions, index = [], first
    while time.monotonic() < deadline:
        sessions.append(await stream_once(url, api_key, utterances[index % len(utterances)]))
        index += 1
    return sessions


async def _run(url, api_key, utterances, streams, seconds) -> List[Session]:
    # Starts spread over one mean utterance, so that sessions do not end all at once.
    mean = sum(u.seconds for u in utterances) / len(utterances)
    deadline = time.monotonic() + seconds
    loops = [_stream_loop(url, api_key, utterances, i, i * mean / streams, deadline) for i in range(streams)]
    return [session for sessions in await asyncio.gather(*loops) for session in sessions]


def run_streams(url: str, api_key: str, utterances: List[Utterance], streams: int,
                seconds: float) -> List[Session]:
    """Keep `streams` sessions going for `seconds` (each finishes its utterance)."""
    return asyncio.run(_run(url, api_key, utterances, streams, seconds))
