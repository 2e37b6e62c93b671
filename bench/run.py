"""`make bench`: asrx and the sample-code baseline measured side by side, in one Markdown table."""

import argparse
import datetime
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench import (
    batch,
    channels,
    clients,
    lifecycle,
    paced,
    report,
    serve,
    serve_long,
    spoken,
    throughput,
)

README, RESULTS = clients.BENCH_DIR / "README.md", clients.BENCH_DIR / "results"
TABLE = re.compile(r"(<!-- bench:table -->\n).*?(<!-- /bench:table -->)", re.DOTALL)
FIGURES = {  # name: (figure numbers, how to measure them with the options and a folder for inputs)
    "pacing": ("1-2", paced.pacing), "throughput": ("3", throughput.run),
    "memory": ("4", lifecycle.memory), "latency": ("5", paced.latency),
    "lifecycle": ("6-7", lifecycle.lifecycle), "startup": ("7", lifecycle.startup),
    "serve": ("8", serve.capacity), "serve-long": ("8", serve_long.long_session),
    "subtitles": ("9", spoken.subtitles),
    "batch": ("10", batch.run), "accuracy": ("11", serve.accuracy),
    "reconnect": ("12", spoken.reconnects), "channels": ("13", channels.run),
}  # in the table's order
QUIET_CORES = 0.15  # other load below this many cores counts as quiet
SIZES = {  # option: (type, full size, quick size, what it sets)
    "--pacing-seconds": (float, 120, 20, "audio paced for figures 1-2 and 13"),
    "--pcm-minutes": (float, 30, 3, "16 kHz PCM for figure 3"),
    "--flac-minutes": (float, 10, 1, "44.1 kHz stereo FLAC for figure 3"),
    "--repeats": (int, 3, 1, "runs of each throughput measurement (the best counts)"),
    "--memory-hours": (float, 3, 0.25, "the long input of figure 4"),
    "--sentences": (int, 300, 50, "scripted sentences for figure 5"),
    "--runs": (int, 15, 5, "runs for start-up and shutdown (figures 6, 7)"),
    "--serve-trial-seconds": (float, 20, 8, "each trial of figure 8"),
    "--serve-long-minutes": (float, 20, 2, "the long session of figure 8"),
    "--batch-seconds": (float, 10, 2, "each paced file of figure 10 (unpaced: twice)"),
    "--settle-seconds": (float, 20, 2, "the longest wait before each figure for others to calm"),
}


def parse_options(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmarks of asrx and the sample-code client.")
    parser.add_argument("--only", action="append", metavar="FIGURE", help="run only this figure "
                        f"group ({', '.join(FIGURES)}, or 1-13); repeatable",
                        choices=[*FIGURES, *map(str, range(1, 14))])
    parser.add_argument("--skip-serve", action="store_true", help="leave out figure 8 (asrx serve)")
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the bench itself")
    for option, (kind, full, fast, what) in SIZES.items():
        unit = option.rsplit("-", 1)[1].upper() if kind is float else "N"  # SECONDS, MINUTES...
        parser.add_argument(option, type=kind, metavar=unit,
                            help=f"{what} [{full:g}; quick {fast:g}]")
    quick = parser.parse_known_args(argv)[0].quick  # the sizes' defaults depend on it
    parser.set_defaults(**{option[2:].replace("-", "_"): fast if quick else full
                           for option, (_, full, fast, _) in SIZES.items()})
    return parser.parse_args(argv)


def selected(options) -> list[str]:
    wanted = set(options.only or FIGURES)
    skipped = {"serve", "serve-long"} if options.skip_serve else set()
    return [figure for figure, (numbers, _) in FIGURES.items()
            if wanted & {figure, *numbers.split("-")} and figure not in skipped]


def load_probe() -> tuple[float, float]:
    """(now, CPU s the machine spent busy since boot, less the bench's and its ended children's)"""
    spent = psutil.cpu_times()
    busy = spent.user + spent.nice + spent.system + spent.irq + spent.softirq
    return time.monotonic(), busy - sum(os.times()[:4])


def other_load(since: tuple[float, float]) -> float:
    """Cores kept busy by other processes since the load_probe() `since`."""
    (then, busy), (now, busy_now) = since, load_probe()
    return max(0.0, busy_now - busy) / max(now - then, 1e-9)


def settle(longest: float) -> float:
    """Wait, at most about `longest` seconds, for other processes to calm down; their last load."""
    deadline = time.monotonic() + longest
    while True:
        since = load_probe()
        time.sleep(1.0)
        if (load := other_load(since)) < QUIET_CORES or time.monotonic() >= deadline:
            return load


def machine() -> str:
    model = re.search(r"^model name\s*:(.*)", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"{model[1].strip() if model else ''}, {len(os.sched_getaffinity(0))} cores usable, "
            f"{platform.platform()}, Python {platform.python_version()}; load average {load} at "
            "the end")


def run_figure(figure: str, options, folder: Path) -> report.FigureResult:
    before = settle(options.settle_seconds)
    print(f"bench: {figure}...", file=sys.stderr, flush=True)
    since, (numbers, measure) = load_probe(), FIGURES[figure]
    try:
        result = measure(options, folder)
    except Exception as exc:  # one figure's failure must not cost the others
        why, name = f"{type(exc).__name__}: {exc}".splitlines()[0], f"{numbers}. {figure}"
        result = report.FigureResult(name, [report.Row(f"{name}: not measured", why)],
                                     [f"{name}: {why}"])
    result.other_load, took = other_load(since), time.monotonic() - since[0]
    result.notes.append(f"Machine during {figure} ({took:.0f} s): other processes kept "
                        f"{result.other_load:.2f} cores busy ({before:.2f} just before).")
    print(f"bench: {figure} took {took:.0f} s; other load {result.other_load:.2f} cores",
          file=sys.stderr, flush=True)
    return result


def main(argv=None):
    options = parse_options(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="asrx-bench-") as workdir:
        results = [run_figure(figure, options, Path(workdir)) for figure in selected(options)]
    table = report.markdown_table([row for result in results for row in result.rows])
    notes = [note for result in results for note in result.notes]
    caption = (f"`make bench`{' --quick' if options.quick else ''}, "
               f"{(time.monotonic() - started) / 60:.1f} min, "
               f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, on "
               f"{machine()}; other processes kept "
               f"{max(result.other_load for result in results):.2f} cores busy during the busiest "
               "figure.")
    print(f"{table}\n\n{caption}\n\n" + "\n".join(f"- {note}" for note in notes))
    RESULTS.mkdir(exist_ok=True)
    raw = {"caption": caption, "notes": notes,
           "figures": {result.name: result.raw for result in results}}
    (RESULTS / "latest.json").write_text(json.dumps(raw, indent=1, ensure_ascii=False))
    if not (options.only or options.skip_serve or options.quick):
        text, found = TABLE.subn(lambda old: f"{old[1]}{caption}\n\n{table}\n{old[2]}",
                                 README.read_text(), count=1)
        if not found:
            raise SystemExit(f"bench: {README} has no bench:table markers")
        README.write_text(text)
        print(f"bench: wrote the table into {README}", file=sys.stderr)


if __name__ == "__main__":
    main()
