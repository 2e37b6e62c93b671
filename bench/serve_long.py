"""Figure 8, continued: `asrx serve` in one long session of continuous read speech, minute by
minute (CPU, frame to next text, memory), and its memory once the session is over."""

import asyncio
import bisect
import time

import numpy as np
import psutil

from asrx_cli.wire import BYTES_PER_SECOND, FRAME_BYTES
from bench import clients
from bench.report import FigureResult, Row, ms, summary
from bench.serve import CPU_GOAL, joined_librivox, stream_once

IDLE_TIME, FLAT = 10.0, 1.2  # the server frees idle decoders after IDLE_TIME; flat: within FLAT×


def rss_mb(pid: int) -> float:
    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 1e6


def sample(pid: int) -> tuple:
    """(when, CPU seconds, RSS MB) of the server and its workers."""
    return time.monotonic(), clients.cpu_seconds(pid, tree=True), rss_mb(pid)


async def sample_server(pid: int, samples: list) -> None:
    """A sample every minute."""
    while True:
        samples.append(sample(pid))
        await asyncio.sleep(60.0)


def long_session(options, workdir) -> FigureResult:
    """One session of continuous read speech: its first and second halves compared."""
    minutes, samples = options.serve_long_minutes, []
    with clients.serve("--quiet", "--decoder-idle-time", f"{IDLE_TIME:g}") as server:
        idle = rss_mb(server.pid)

        async def streamed():
            sampler = asyncio.create_task(sample_server(server.pid, samples))
            session = await stream_once(server.url, "long", joined_librivox(minutes * 60))
            sampler.cancel()
            return session

        session = asyncio.run(streamed())
        samples.append(sample(server.pid))
        time.sleep(1.5 * IDLE_TIME)  # idle decoders are freed every half of it
        after = rss_mb(server.pid)
    if session["error"]:
        raise RuntimeError(session["error"])
    stamps, frame = session["stamps"], FRAME_BYTES / BYTES_PER_SECOND

    def minute(k: int) -> dict:
        """Server CPU per audio s, frame → next text p95, RSS at its end, of minute k."""
        (then, cpu, _), (now, cpu_now, rss) = samples[k], samples[k + 1]
        frames = range(int(k * 60 / frame), int((k + 1) * 60 / frame))
        dues = [session["started"] + i * frame for i in frames]
        waits = [stamps[j] - due for due in dues
                 if (j := bisect.bisect_left(stamps, due)) < len(stamps)]
        return {"cpu": (cpu_now - cpu) / (now - then), "wait": summary(waits)["p95"], "rss": rss}

    measured = [minute(k) for k in range(len(samples) - 2)]  # the whole minutes
    half = max(1, len(measured) // 2)  # medians of each half: one minute is at the machine's mercy
    first, last = ({key: float(np.median([m[key] for m in part])) for key in part[0]}
                   for part in (measured[:half], measured[-half:]))
    flat = {key: last[key] <= FLAT * first[key] for key in first}
    rows = [Row(f"8. `asrx serve`, one session of {minutes:g} min of continuous read speech: "
                "server CPU s per audio s, first / second half (median minute)",
                f"{first['cpu']:.3f} / {last['cpu']:.3f}",
                goal=f"≤ {CPU_GOAL:g}, flat", met=last["cpu"] <= CPU_GOAL and flat["cpu"]),
            Row("8. `asrx serve`, the same session: frame → next text p95, first / second half",
                f"{ms(first['wait'], 0)} / {ms(last['wait'], 0)}", goal="flat", met=flat["wait"]),
            Row(f"8. `asrx serve`, the same session: server RSS idle / first half / second half / "
                f"{1.5 * IDLE_TIME:g} s after (`--decoder-idle-time {IDLE_TIME:g}`)",
                f"{idle:.0f} / {first['rss']:.0f} / {last['rss']:.0f} / {after:.0f} MB",
                goal="flat, back to idle", met=flat["rss"] and after <= idle + 10)]
    note = (f"Long session: the LibriVox recordings joined 0.1 s apart, repeated for {minutes:g} "
            f"min, at real time in one session; {len(stamps)} messages; server CPU, RSS (the "
            "server and its workers, psutil) sampled every minute; frame → next text: from each "
            "frame's due time to the next message; each half's median minute. Per minute, CPU s "
            "per audio s: " + ", ".join(f"{m['cpu']:.3f}" for m in measured) + ".")
    return FigureResult("serve-long", rows, [note], {"samples": samples, "idle_rss": idle,
                                                     "after_rss": after, "first": first,
                                                     "last": last})
