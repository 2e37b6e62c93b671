"""Batches: wall time and pacing of `--jobs 1, 4, 8` on real-time files, and unpaced
throughput of one batch against a loop of single `asrx transcribe` calls.

    .venv/bin/python bench/batch.py [--files 8] [--seconds 10] [--loop-files 24] [--loop-seconds 20] [--repeats 2]

Prints a Markdown table on stdout. Self-contained: its receiving server is
this file run with --sink, in a process of its own so that its CPU is not the
client's; it stamps every audio frame on arrival with CLOCK_MONOTONIC, which
this process reads too. Frame n of a connection is due (audio before it) /
32000 s after its first frame: its lateness is its arrival minus that.
`run(workdir)` gives bench/run.py the same rows. The sink is written with the
websockets library: unpaced, it may be what limits a batch of several jobs.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import List

import numpy as np

BYTES_PER_SECOND = 32000
END_MARKER = json.dumps({"type": "realtime", "text": "end_of_process"})
JOBS = (1, 4, 8)
API_KEY = "bench-key"


# --- the sink (a process of its own) ------------------------------------------------------

async def sink():
    from websockets.asyncio.server import serve

    async def handle(ws):
        record = {"opened": time.monotonic(), "arrivals": [], "sizes": []}
        async for message in ws:
            if isinstance(message, bytes):
                record["arrivals"].append(time.monotonic())
                record["sizes"].append(len(message))
            elif "CloseConnection" in message:
                await ws.send(END_MARKER)
        record["closed"] = time.monotonic()
        print(json.dumps(record), flush=True)

    async with serve(handle, "127.0.0.1", 0, max_size=None, compression=None, ping_interval=None) as server:
        print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the bench goes


class Sink:
    """The sink process: its URL, and the connections it has reported."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, __file__, "--sink"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline().split()[1])
        self.records: List[dict] = []
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self):
        for line in self.process.stdout:
            self.records.append(json.loads(line))

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/asrx"

    def take(self, count: int, timeout: float = 30.0) -> List[dict]:
        """The next `count` connections, once they have all closed."""
        deadline = time.monotonic() + timeout
        while len(self.records) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the sink saw {len(self.records)} connections, not {count}")
            time.sleep(0.05)
        taken, self.records[:] = self.records[:count], self.records[count:]
        return taken

    def close(self):
        self.process.stdin.close()
        self.process.wait(10)


# --- the client ---------------------------------------------------------------------------

def write_files(folder: Path, count: int, seconds: float) -> Path:
    """`count` 16 kHz mono WAV files of a voice-like signal, each a little different."""
    import soundfile

    folder.mkdir(parents=True)
    t = np.arange(int(seconds * 16000)) / 16000
    for index in range(count):
        pitch = 120 + 10 * index
        voice = sum(np.sin(2 * np.pi * k * pitch * t) / k for k in range(1, 6))
        envelope = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 2
        soundfile.write(str(folder / f"call{index:03d}.wav"), 0.25 * voice * envelope, 16000, subtype="PCM_16")
    return folder


def asrx(*args) -> float:
    """Run `asrx transcribe ARGS`; its wall time."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ASRX_")}
    environment.update(ASRX_API_KEY=API_KEY, XDG_CONFIG_HOME=tempfile.gettempdir() + "/asrx-bench-no-config")
    command = [str(Path(sys.executable).with_name("asrx")), "transcribe", "-q", *map(str, args)]
    started = time.monotonic()
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    took = time.monotonic() - started
    if result.returncode:
        raise RuntimeError(f"asrx exited {result.returncode}: {result.stderr.strip()}")
    return took


def lateness(record: dict) -> List[float]:
    first, due, late = record["arrivals"][0], 0.0, []
    for arrival, size in zip(record["arrivals"], record["sizes"]):
        late.append(arrival - first - due)
        due += size / BYTES_PER_SECOND
    return late


def paced(workdir: Path, sink: Sink, files: int, seconds: float, repeats: int) -> dict:
    """Each --jobs on the same real-time files: wall time against the ideal, and the lateness of frames.

    The machine is shared: of `repeats` runs, the one with the least lateness counts.
    """
    folder = write_files(workdir / "paced", files, seconds)
    results = {}
    for jobs in JOBS:
        runs = []
        for attempt in range(repeats):
            out = workdir / f"out-paced-{jobs}-{attempt}"
            wall = asrx("--url", sink.url, "--jobs", jobs, "--output-dir", out, folder)
            runs.append(pacing_of(sink.take(files), wall, -(-files // jobs) * seconds))
        results[jobs] = min(runs, key=lambda run: run["p99"])
    return results


def pacing_of(records: List[dict], wall: float, ideal: float) -> dict:
    late = [value for record in records for value in lateness(record)]
    return {"wall": wall, "ideal": ideal, "p99": float(np.percentile(late, 99)), "max": max(late),
            "drift": max(abs(lateness(record)[-1]) for record in records),
            "most_at_once": most_at_once(records)}


def most_at_once(records: List[dict]) -> int:
    events = sorted([(r["opened"], 1) for r in records] + [(r["closed"], -1) for r in records])
    count = best = 0
    for _, step in events:
        count += step
        best = max(best, count)
    return best


def unpaced(workdir: Path, sink: Sink, files: int, seconds: float) -> dict:
    """The same files: a shell-style loop of single calls, then batches of --jobs 1 and 4, unpaced."""
    folder = write_files(workdir / "unpaced", files, seconds)
    audio = files * seconds
    loop_wall = 0.0
    for path in sorted(folder.iterdir()):
        loop_wall += asrx("--url", sink.url, "--speed", "0", "-o", workdir / f"{path.stem}.txt", path)
    sink.take(files)
    results = {"loop": audio / loop_wall}
    for jobs in (1, 4):
        wall = asrx("--url", sink.url, "--speed", "0", "--jobs", jobs,
                    "--output-dir", workdir / f"out-unpaced-{jobs}", folder)
        sink.take(files)
        results[f"jobs {jobs}"] = audio / wall
    return results


# --- the table ----------------------------------------------------------------------------

def table(pacing: dict, throughput: dict, files: int, seconds: float, loop_files: int,
          loop_seconds: float) -> List[List[str]]:
    rows = []
    for jobs, r in pacing.items():
        rows.append([f"--jobs {jobs}, {files} files of {seconds:g} s at speed 1: wall time",
                     f"{r['wall']:.2f} s", f"{r['ideal']:.2f} s", f"{r['wall'] / r['ideal']:.3f}"])
        rows.append([f"--jobs {jobs}: frame lateness p99 / max; worst drift; most sessions at once",
                     f"{r['p99'] * 1000:.2f} / {r['max'] * 1000:.2f} ms; {r['drift'] * 1000:.2f} ms; "
                     f"{r['most_at_once']}", "", ""])
    loop = throughput["loop"]
    what = f"{loop_files} files of {loop_seconds:g} s, unpaced (audio s per wall s)"
    rows.append([f"a loop of single `asrx transcribe` calls, {what}", f"{loop:.0f}×", "", "1.00"])
    for name in ("jobs 1", "jobs 4"):
        rows.append([f"one batch, --{name}, {what}", f"{throughput[name]:.0f}×", "",
                     f"{throughput[name] / loop:.2f}"])
    return rows


def markdown(rows: List[List[str]]) -> str:
    lines = ["| measurement | asrx | ideal | ratio |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def measure(workdir: Path, files=8, seconds=10.0, loop_files=24, loop_seconds=20.0, repeats=2):
    sink = Sink()
    try:
        pacing = paced(workdir, sink, files, seconds, repeats)
        throughput = unpaced(workdir, sink, loop_files, loop_seconds)
    finally:
        sink.close()
    rows = table(pacing, throughput, files, seconds, loop_files, loop_seconds)
    return rows, {"pacing": pacing, "throughput": throughput}


def run(workdir: Path):
    """For bench/run.py: figure 10, in its table's terms."""
    import report

    rows, raw = measure(workdir)
    return report.FigureResult("batch", [report.Row(f"10. Batch: {r[0]}", r[1], r[2] or "—", r[3] or "—")
                                         for r in rows], [], raw)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=8, help="real-time files [8]")
    parser.add_argument("--seconds", type=float, default=10, help="their length [10]")
    parser.add_argument("--loop-files", type=int, default=24, help="files for the unpaced comparison [24]")
    parser.add_argument("--loop-seconds", type=float, default=20, help="their length [20]")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each --jobs; the best counts [2]")
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.sink:
        asyncio.run(sink())
        return
    with tempfile.TemporaryDirectory(prefix="asrx-bench-batch-") as workdir:
        rows, _ = measure(Path(workdir), options.files, options.seconds, options.loop_files, options.loop_seconds,
                          options.repeats)
    print(markdown(rows))


if __name__ == "__main__":
    main()
