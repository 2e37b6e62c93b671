"""`make bench`: measure asrx and the sample-code baseline side by side, print one Markdown table.

    .venv/bin/python bench/run.py [--only FIGURE ...] [--skip-serve] [--pacing-seconds 600] ...

Figures: pacing (1, 2), throughput (3), memory (4), latency (5), lifecycle
(6 and the first-byte half of 7), startup (the --help half of 7), serve (8),
subtitles (9);
numbers are accepted too. A run of every figure rewrites bench/README.md;
raw measurements go to bench/results/latest.json.
"""

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

import machine
import processes
import readme
import report
from report import FigureResult

BENCH_DIR = processes.BENCH_DIR
FIGURES = ("pacing", "throughput", "memory", "latency", "lifecycle", "startup", "serve", "subtitles")
FIGURE_LABELS = {"pacing": "1-2", "throughput": "3", "memory": "4", "latency": "5", "lifecycle": "6-7",
                 "startup": "7", "serve": "8", "subtitles": "9"}
FIGURE_NUMBERS = {"1": ["pacing"], "2": ["pacing"], "3": ["throughput"], "4": ["memory"], "5": ["latency"],
                  "6": ["lifecycle"], "7": ["lifecycle", "startup"], "8": ["serve"], "9": ["subtitles"]}


# (option, type, default, metavar, what it sets)
SIZES = [
    ("--pacing-seconds", float, 120, "SECONDS", "audio paced for figures 1-2"),
    ("--pcm-minutes", float, 30, "MINUTES", "16 kHz PCM for figure 3"),
    ("--flac-minutes", float, 10, "MINUTES", "44.1 kHz stereo FLAC for figure 3"),
    ("--repeats", int, 3, "N", "runs of each throughput measurement (the best counts)"),
    ("--memory-hours", float, 3, "HOURS", "the long input of figure 4"),
    ("--sentences", int, 300, "N", "scripted sentences for figure 5"),
    ("--sentence-every", float, 0.05, "SECONDS", "time between them"),
    ("--runs", int, 15, "N", "runs for start-up and shutdown (figures 6, 7)"),
    ("--serve-trial-seconds", float, 20, "SECONDS", "each trial of figure 8"),
    ("--settle-seconds", float, 20, "SECONDS", "the longest wait before each figure for other processes to calm"),
]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Benchmarks of asrx against the sample-code client.")
    parser.add_argument("--only", action="append", metavar="FIGURE",
                        help=f"run only this figure group ({', '.join(FIGURES)}, or 1-9); repeatable")
    parser.add_argument("--skip-serve", action="store_true", help="leave out figure 8 (asrx serve)")
    for option, kind, default, metavar, what in SIZES:
        parser.add_argument(option, type=kind, default=default, metavar=metavar, help=f"{what} [{default:g}]")
    parser.add_argument("--client-source", metavar="DIR",
                        help="run asrx from the asrx_cli package in DIR instead of the installed one "
                             "(to measure a change before applying it); implies --no-readme")
    parser.add_argument("--readme", dest="readme", action="store_true", default=None,
                        help="write bench/README.md even for a partial run")
    parser.add_argument("--no-readme", dest="readme", action="store_false", help="never write it")
    return parser


def selected_figures(options) -> List[str]:
    if not options.only:
        chosen = list(FIGURES)
    else:
        chosen = []
        for name in options.only:
            for figure in FIGURE_NUMBERS.get(name, [name]):
                if figure not in FIGURES:
                    raise SystemExit(f"bench: unknown figure {name!r} (known: {', '.join(FIGURES)}, 1-9)")
                chosen.append(figure)
    if options.skip_serve:
        chosen = [figure for figure in chosen if figure != "serve"]
    return [figure for figure in FIGURES if figure in chosen]


def figure_runners(options, workdir: Path) -> Dict[str, Callable[[], FigureResult]]:
    # Imported here so that --help needs none of the measuring modules' libraries.
    import latency
    import lifecycle
    import memory
    import pacing
    import serve_capacity
    import startup
    import subtitles
    import throughput

    def serve() -> FigureResult:
        why = serve_capacity.unavailable()
        if why:
            return report.skipped("serve", "8. `asrx serve`", why)
        return serve_capacity.run(options.serve_trial_seconds)

    return {
        "pacing": lambda: pacing.run(workdir, options.pacing_seconds),
        "throughput": lambda: throughput.run(workdir, options.pcm_minutes, options.flac_minutes, options.repeats),
        "memory": lambda: memory.run(workdir, 1, options.memory_hours),
        "latency": lambda: latency.run(workdir, options.sentences, options.sentence_every),
        "lifecycle": lambda: lifecycle.run(workdir, options.runs),
        "startup": lambda: startup.run(options.runs),
        "serve": serve,
        "subtitles": subtitles.run,
    }


def figure_number(row: report.Row) -> int:
    match = re.match(r"(\d+)", row.figure)
    return int(match.group(1)) if match else 99


def run_figures(figures: List[str], options) -> List[FigureResult]:
    results = []
    with tempfile.TemporaryDirectory(prefix="asrx-bench-") as workdir:
        runners = figure_runners(options, Path(workdir))
        for figure in figures:
            results.append(run_figure(figure, runners[figure], options.settle_seconds))
    return results


def run_figure(figure: str, runner: Callable[[], FigureResult], settle_seconds: float) -> FigureResult:
    before, waited = machine.wait_for_quiet(settle_seconds)
    print(f"bench: {figure}...", file=sys.stderr, flush=True)
    started, other = time.monotonic(), machine.OtherLoad().start()
    try:
        result = runner()
    except Exception as exc:  # one figure's failure must not cost the others
        why = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        result = report.failed(f"{FIGURE_LABELS[figure]}. {figure}", why)
    result.other_load = other.cores()
    took = time.monotonic() - started
    for row in result.rows:
        if row.met is False and not row.why:
            row.why = (f"no cause was measured; other processes kept {result.other_load:.2f} cores busy "
                       f"while it ran: repeat it alone (--only {figure}) to tell")
    settled = "quiet" if before < machine.QUIET_CORES else f"still {before:.2f} cores busy after {waited:.0f} s"
    result.notes.append(f"Machine during {figure} ({took:.0f} s): other processes kept "
                        f"{result.other_load:.2f} cores busy (before it: {settled}).")
    print(f"bench: {figure} took {took:.0f} s; other load {result.other_load:.2f} cores",
          file=sys.stderr, flush=True)
    return result


def save_raw(results: List[FigureResult], described: str):
    folder = BENCH_DIR / "results"
    folder.mkdir(exist_ok=True)
    data = {"machine": described, "figures": {result.name: result.raw for result in results}}
    (folder / "latest.json").write_text(json.dumps(data, indent=1, ensure_ascii=False))


def main(argv=None):
    parser = make_parser()
    options = parser.parse_args(argv)
    figures = selected_figures(options)
    if options.client_source:
        processes.client_source = str(Path(options.client_source).resolve())
        options.readme = False
    load_before, started = machine.load_average(), time.monotonic()
    results = run_figures(figures, options)
    described = machine.description(load_before, machine.load_average())
    rows = sorted((row for result in results for row in result.rows), key=figure_number)
    table = report.markdown_table(rows)
    notes = [note for result in results for note in result.notes]
    print(table)
    print(f"\nMachine: {described}; the run took {time.monotonic() - started:.0f} s.")
    save_raw(results, described)
    write_readme = options.readme if options.readme is not None else not options.only
    if write_readme:
        readme.write(BENCH_DIR / "README.md", table, described, notes, rows, options,
                     sys.argv[1:] if argv is None else argv, parser, time.monotonic() - started)
        print("bench: wrote bench/README.md", file=sys.stderr)


if __name__ == "__main__":
    main()
