"""Figure 10: batches: wall time and pacing of `--jobs 1, 4, 8` on real-time files, and unpaced
throughput of one batch against a loop of single `asrx transcribe` calls."""

from pathlib import Path

import numpy as np

from bench import clients
from bench.paced import drift, frame_lateness
from bench.report import FigureResult, Row

JOBS, UNPACED_JOBS = (1, 4, 8), (1, 4)
FILES, LOOP_FILES, REPEATS = 8, 24, 2


def write_files(folder: Path, count: int, seconds: float) -> Path:
    folder.mkdir(parents=True)
    for index in range(count):
        clients.audio_file(folder / f"call{index:03d}.wav", seconds)
    return folder


def most_at_once(records: list[dict]) -> int:
    events = sorted([(r["opened"], 1) for r in records] + [(r["closed"], -1) for r in records])
    return int(np.cumsum([step for _, step in events]).max())


def paced(workdir: Path, sink: clients.SinkProcess, seconds: float) -> dict:
    """Each --jobs on the same real-time files; the machine is shared: the least late run counts."""
    folder, results = write_files(workdir / "paced", FILES, seconds), {}
    for jobs in JOBS:
        runs = []
        for attempt in range(REPEATS):
            tag = f"paced-{jobs}-{attempt}"
            out = workdir / f"out-{tag}"
            wall = clients.asrx(sink.url(tag), folder, 1, "--jobs", jobs, "--output-dir", out).wall
            records = sink.records(tag, FILES)
            late = np.concatenate([frame_lateness(record)[1] for record in records])
            runs.append({"wall": wall, "ideal": -(-FILES // jobs) * seconds,
                         "p99": float(np.percentile(late, 99)), "max": float(late.max()),
                         "drift": max(abs(drift(record)) for record in records),
                         "most_at_once": most_at_once(records)})
        results[jobs] = min(runs, key=lambda run: run["p99"])
    return results


def unpaced(workdir: Path, sink: clients.SinkProcess, seconds: float) -> dict:
    """The same files: a shell-style loop of single calls, then batches, unpaced."""
    folder, audio = write_files(workdir / "unpaced", LOOP_FILES, seconds), LOOP_FILES * seconds
    loop_wall = sum(clients.asrx(sink.url("loop"), path, 0, "-o", workdir / f"{path.stem}.txt").wall
                    for path in sorted(folder.iterdir()))
    sink.records("loop", LOOP_FILES)
    results = {"loop": audio / loop_wall}
    for jobs in UNPACED_JOBS:
        tag = f"unpaced-{jobs}"
        out = workdir / f"out-{tag}"
        wall = clients.asrx(sink.url(tag), folder, 0, "--jobs", jobs, "--output-dir", out).wall
        sink.records(tag, LOOP_FILES)
        results[f"jobs {jobs}"] = audio / wall
    return results


def run(options, workdir: Path) -> FigureResult:
    seconds, loop_seconds = options.batch_seconds, 2 * options.batch_seconds
    with clients.SinkProcess() as sink:
        pacing = paced(workdir, sink, seconds)
        throughput = unpaced(workdir, sink, loop_seconds)
    rows = []
    for jobs, r in pacing.items():
        rows += [Row(f"10. Batch: --jobs {jobs}, {FILES} files of {seconds:g} s at speed 1: wall "
                     "time", f"{r['wall']:.2f} s", f"{r['ideal']:.2f} s",
                     f"{r['wall'] / r['ideal']:.3f}"),
                 Row(f"10. Batch: --jobs {jobs}: frame lateness p99 / max; worst drift; most "
                     "sessions at once", f"{r['p99'] * 1000:.2f} / {r['max'] * 1000:.2f} ms; "
                     f"{r['drift'] * 1000:.2f} ms; {r['most_at_once']}")]
    what = f"{LOOP_FILES} files of {loop_seconds:g} s, unpaced (audio s per wall s)"
    loop = throughput["loop"]
    rows.append(Row(f"10. Batch: a loop of single `asrx transcribe` calls, {what}", f"{loop:.0f}×",
                    ratio="1.00"))
    for jobs in UNPACED_JOBS:
        speed = throughput[f"jobs {jobs}"]
        rows.append(Row(f"10. Batch: one batch, --jobs {jobs}, {what}", f"{speed:.0f}×",
                        ratio=f"{speed / loop:.2f}"))
    return FigureResult("batch", rows, [], {"pacing": pacing, "throughput": throughput})
