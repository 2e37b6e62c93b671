"""Figure 8: `asrx serve` with PocketSphinx: CPU per stream, and how many real-time streams it sustains.

One asyncio process drives every stream, so that the cores go to the server."""

import asyncio
import json
import os
import time
from typing import Dict, List

from websockets.asyncio.client import connect

import clients
import report
from asrx_cli.server.process import ServeProcess
from asrx_cli.wire import (API_KEY_HEADER, BYTES_PER_SECOND, END_MARKERS, END_OF_STREAM, FRAME_BYTES, NEW_SENTENCE,
                           SAMPLE_RATE)
from report import FigureResult, Row
from tests.speech import GOFORWARD, LIBRIVOX, NUMBERS, SOMETHING
from tests.utterances import Utterance, recording

SILENCE = bytes(int(1.5 * BYTES_PER_SECOND))  # after the speech, as a speaker leaves the microphone open
LATENCY_GOAL, GENERATOR_SLACK, SESSION_TIMEOUT = 1.0, 0.1, 60.0
MOST_STREAMS, MOST_TRIALS = 64, 6


def utterances() -> List[Utterance]:
    """Debian's pocketsphinx-testdata recordings, trimmed to their speech as the tests trim them."""
    paths = sorted(LIBRIVOX.glob("*.wav")) + [path for path in (GOFORWARD, SOMETHING, NUMBERS) if path.exists()]
    return [recording(path, "") for path in paths]


async def stream_once(url: str, name: str, speech: bytes) -> dict:
    """One session of `speech` then silence: audio seconds, the transcript a client holds, first text and
    latency from the first and last frame of speech (None without text), error, and the generator's lateness."""
    pcm = speech + SILENCE
    session = {"audio_seconds": len(pcm) / BYTES_PER_SECOND, "latency": None, "first_text": None, "error": None,
               "send_lateness": 0.0, "transcript": ""}
    texts, sentences = [], []

    async def receive(ws):
        async for message in ws:
            data = json.loads(message)
            if data.get("text") in END_MARKERS:
                return
            if "state" in data:
                texts.append(time.monotonic())
                if data["state"] == NEW_SENTENCE or not sentences:
                    sentences.append("")
                sentences[-1] = data["text"]

    try:
        async with connect(url, additional_headers={API_KEY_HEADER: clients.API_KEY}, compression=None,
                           ping_interval=None, open_timeout=SESSION_TIMEOUT) as ws:
            receiver = asyncio.create_task(receive(ws))
            started, speech_sent = time.monotonic(), None
            for offset in range(0, len(pcm), FRAME_BYTES):
                due = started + offset / BYTES_PER_SECOND
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                session["send_lateness"] = max(session["send_lateness"], time.monotonic() - due)
                await ws.send(pcm[offset:offset + FRAME_BYTES])
                if speech_sent is None and offset + FRAME_BYTES >= len(speech):
                    speech_sent = time.monotonic()
            await ws.send(json.dumps(END_OF_STREAM))
            await asyncio.wait_for(receiver, SESSION_TIMEOUT)
        if texts:
            session.update(latency=texts[-1] - speech_sent, first_text=texts[0] - started,
                           transcript=" ".join(sentences))
        else:
            session["error"] = f"{name}: no text"
    except Exception as exc:  # any failure fails the trial; keep its words
        session["error"] = f"{name}: {type(exc).__name__}: {exc}"
    return session


async def run_streams(url: str, spoken: List[Utterance], streams: int, seconds: float) -> List[dict]:
    """Keep `streams` sessions going for `seconds` (each finishes its utterance), starts spread over one."""
    mean = sum(len(u.samples) for u in spoken) / len(spoken) / SAMPLE_RATE + len(SILENCE) / BYTES_PER_SECOND
    deadline = time.monotonic() + seconds

    async def loop(first: int) -> List[dict]:
        await asyncio.sleep(first * mean / streams)
        sessions = []
        while time.monotonic() < deadline:
            utterance = spoken[(first + len(sessions)) % len(spoken)]
            sessions.append(await stream_once(url, utterance.name, utterance.samples.tobytes()))
        return sessions

    return [session for sessions in await asyncio.gather(*map(loop, range(streams))) for session in sessions]


def trial(server: ServeProcess, spoken: List[Utterance], streams: int, seconds: float) -> dict:
    cpu_before = clients.tree_cpu_seconds(server.pid)
    sessions = asyncio.run(run_streams(server.url, spoken, streams, seconds))
    cpu = clients.tree_cpu_seconds(server.pid) - cpu_before
    latencies = [s["latency"] for s in sessions if s["latency"] is not None]
    errors = [s["error"] for s in sessions if s["error"]]
    audio = sum(s["audio_seconds"] for s in sessions)
    result = {"streams": streams, "sessions": len(sessions), "cpu_per_audio_second": cpu / audio,
              "latency": report.summary(latencies), "errors": errors[:5], "error_count": len(errors),
              "generator_lateness": max(s["send_lateness"] for s in sessions)}
    result["sustained"] = (not errors and result["generator_lateness"] <= GENERATOR_SLACK
                           and len(latencies) >= streams and result["latency"]["p95"] <= LATENCY_GOAL)
    return result


def search(sustained, guess: int) -> int:
    """The largest N that `sustained(N)` holds for, by doubling from `guess`, then bisection."""
    best, failure, n = 0, MOST_STREAMS + 1, max(1, min(guess, MOST_STREAMS))
    for _ in range(MOST_TRIALS):
        if sustained(n):
            best = n
        else:
            failure = n
        if failure - best <= 1:
            break
        n = min(n * 2, MOST_STREAMS) if failure > MOST_STREAMS else (best + failure) // 2
    return best


def run(trial_seconds: float) -> FigureResult:
    spoken = utterances()
    if not spoken:
        raise RuntimeError(f"no speech recordings in {LIBRIVOX.parent} (Debian package pocketsphinx-testdata)")
    trials: Dict[int, dict] = {}

    def sustained(streams: int) -> bool:
        if streams not in trials:
            trials[streams] = trial(server, spoken, streams, trial_seconds)
        return trials[streams]["sustained"]

    with ServeProcess("--api-key", clients.API_KEY, "--max-sessions", "1000", "--quiet",
                      env=clients.client_environment()) as server:
        sustained(1)
        guess = max(1, int(len(os.sched_getaffinity(0)) / max(trials[1]["cpu_per_audio_second"], 0.001)))
        capacity = search(sustained, guess) if trials[1]["sustained"] else 0
    best = trials.get(capacity)
    rows = [Row("8. `asrx serve` (PocketSphinx): server CPU s per audio s, one stream",
                f"{trials[1]['cpu_per_audio_second']:.3f}"),
            Row("8. `asrx serve`: real-time streams sustained, end of speech → final text p95 ≤ 1 s",
                f"{capacity}" + (f" (p95 {report.ms(best['latency']['p95'], 0)})" if best else ""),
                goal="p95 ≤ 1 s", met=capacity >= 1)]
    lines = [f"{n}: {'sustained' if t['sustained'] else 'not sustained'}, {t['sessions']} sessions, latency p50 "
             f"{report.ms(t['latency']['p50'], 0)} / p95 {report.ms(t['latency']['p95'], 0)}, CPU "
             f"{t['cpu_per_audio_second']:.3f} s per audio s, {t['error_count']} errors, generator at most "
             f"{report.ms(t['generator_lateness'], 0)} behind" for n, t in sorted(trials.items())]
    note = (f"`asrx serve`: trials of {trial_seconds:g} s with N streams, first guess {guess}. " + "; ".join(lines))
    return FigureResult("serve", rows, [note], {"trials": trials, "capacity": capacity})
