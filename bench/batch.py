"""Figure 10: batches: wall time and pacing of `--jobs 1, 4, 8` on real-time files, and unpaced throughput of
one batch against a loop of single `asrx transcribe` calls (bench/README.md says how each is measured)."""

from pathlib import Path
from typing import List

import numpy as np

import clients
import inputs
from paced import frame_lateness
from report import FigureResult, Row

JOBS = (1, 4, 8)


def write_files(folder: Path, count: int, seconds: float) -> Path:
    folder.mkdir(parents=True)
    for index in range(count):
        inputs.write(folder / f"call{index:03d}.wav", seconds)
    return folder


def asrx(sink: clients.SinkProcess, tag: str, *args) -> float:
    """Run `asrx transcribe ARGS` against the sink; its wall time."""
    command = [*clients.asrx_executable(), "transcribe", "-q", "--url", sink.url(tag), *map(str, args)]
    run = clients.Client(command).finish(600)
    return run.exited - run.started


def most_at_once(records: List[dict]) -> int:
    events = sorted([(r["opened"], 1) for r in records] + [(r["closed"], -1) for r in records])
    return int(np.cumsum([step for _, step in events]).max())


def pacing_of(records: List[dict], wall: float, ideal: float) -> dict:
    late = [frame_lateness(record) for record in records]
    return {"wall": wall, "ideal": ideal, "p99": float(np.percentile(np.concatenate(late), 99)),
            "max": float(max(l.max() for l in late)), "drift": float(max(abs(l[-1]) for l in late)),
            "most_at_once": most_at_once(records)}


def paced(workdir: Path, sink: clients.SinkProcess, files: int, seconds: float, repeats: int) -> dict:
    """Each --jobs on the same real-time files; the machine is shared: of `repeats` runs, the least late counts."""
    folder, results = write_files(workdir / "paced", files, seconds), {}
    for jobs in JOBS:
        runs = []
        for attempt in range(repeats):
            tag = f"paced-{jobs}-{attempt}"
            wall = asrx(sink, tag, "--jobs", jobs, "--output-dir", workdir / f"out-{tag}", folder)
            runs.append(pacing_of(sink.records(tag, files), wall, -(-files // jobs) * seconds))
        results[jobs] = min(runs, key=lambda run: run["p99"])
    return results


def unpaced(workdir: Path, sink: clients.SinkProcess, files: int, seconds: float) -> dict:
    """The same files: a shell-style loop of single calls, then batches of --jobs 1 and 4, unpaced."""
    folder, audio = write_files(workdir / "unpaced", files, seconds), files * seconds
    loop_wall = sum(asrx(sink, "loop", "--speed", "0", "-o", workdir / f"{path.stem}.txt", path)
                    for path in sorted(folder.iterdir()))
    sink.records("loop", files)
    results = {"loop": audio / loop_wall}
    for jobs in (1, 4):
        tag = f"unpaced-{jobs}"
        wall = asrx(sink, tag, "--speed", "0", "--jobs", jobs, "--output-dir", workdir / f"out-{tag}", folder)
        sink.records(tag, files)
        results[f"jobs {jobs}"] = audio / wall
    return results


def run(workdir: Path, files=8, seconds=10.0, loop_files=24, loop_seconds=20.0, repeats=2) -> FigureResult:
    with clients.SinkProcess("--frame-times") as sink:
        pacing = paced(workdir, sink, files, seconds, repeats)
        throughput = unpaced(workdir, sink, loop_files, loop_seconds)
    rows = []
    for jobs, r in pacing.items():
        rows += [Row(f"10. Batch: --jobs {jobs}, {files} files of {seconds:g} s at speed 1: wall time",
                     f"{r['wall']:.2f} s", f"{r['ideal']:.2f} s", f"{r['wall'] / r['ideal']:.3f}"),
                 Row(f"10. Batch: --jobs {jobs}: frame lateness p99 / max; worst drift; most sessions at once",
                     f"{r['p99'] * 1000:.2f} / {r['max'] * 1000:.2f} ms; {r['drift'] * 1000:.2f} ms; "
                     f"{r['most_at_once']}")]
    what, loop = f"{loop_files} files of {loop_seconds:g} s, unpaced (audio s per wall s)", throughput["loop"]
    rows.append(Row(f"10. Batch: a loop of single `asrx transcribe` calls, {what}", f"{loop:.0f}×", ratio="1.00"))
    for name in ("jobs 1", "jobs 4"):
        rows.append(Row(f"10. Batch: one batch, --{name}, {what}", f"{throughput[name]:.0f}×",
                        ratio=f"{throughput[name] / loop:.2f}"))
    return FigureResult("batch", rows, [], {"pacing": pacing, "throughput": throughput})
