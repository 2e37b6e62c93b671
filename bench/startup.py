"""Figure 7 (first half): `asrx --help` wall time over a bare interpreter start.

The three commands run alternately, so that each meets the same moments of a
shared machine, and the medians are compared. `-X importtime` then names the
imports that cost the most, for the notes.
"""

import re
import subprocess
import sys
import time
from typing import Dict, List

import processes
import report
import stats
from processes import BENCH_DIR
from report import FigureResult, Row

HELP_GOAL = 0.150


def wall_time(command: List[str]) -> float:
    started = time.monotonic()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   env=processes.client_environment())
    return time.monotonic() - started


def costliest_imports(command: List[str], count: int = 4) -> List[str]:
    """The top-level imports with the highest cumulative time, as `-X importtime` reports them."""
    result = subprocess.run(command, capture_output=True, text=True, env=processes.client_environment())
    costs = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if match and len(match.group(2)) <= 1:  # top level: no nesting indent
            costs.append((int(match.group(1)), match.group(3)))
    return [f"{name} {micros / 1000:.0f} ms" for micros, name in sorted(costs, reverse=True)[:count]]


def run(runs: int) -> FigureResult:
    commands = {
        "python": [sys.executable, "-c", "pass"],
        "asrx": [processes.asrx_executable(), "--help"],
        "baseline": [sys.executable, str(BENCH_DIR / "baseline.py"), "--help"],
    }
    times: Dict[str, List[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(wall_time(command))
    medians = {name: stats.median(values) for name, values in times.items()}
    importtime = [sys.executable, "-X", "importtime", "-c", "from asrx_cli.cli import main; main()", "--help"]
    results = {"medians": medians, "times": times, "runs": runs, "imports": costliest_imports(importtime)}
    return FigureResult("startup", rows(results), notes(results), results)


def rows(results: dict) -> List[Row]:
    medians = results["medians"]
    over = {name: medians[name] - medians["python"] for name in ("asrx", "baseline")}
    return [Row("7. Start-up, `--help` wall time over `python -c pass` (median)", report.ms(over["asrx"]),
                report.ms(over["baseline"]), report.ratio(over["asrx"], over["baseline"]),
                "≤ 150 ms", over["asrx"] <= HELP_GOAL,
                f"the costliest imports: {', '.join(results['imports'])}")]


def notes(results: dict) -> List[str]:
    medians = results["medians"]
    return [f"`--help`: median of {results['runs']} runs each; `python -c pass` itself took "
            f"{report.ms(medians['python'])}, `asrx --help` {report.ms(medians['asrx'])}. The baseline's "
            f"`--help` imports websocket-client before argparse, as such scripts do. The costliest imports "
            f"of `asrx --help` (-X importtime, cumulative): {', '.join(results['imports'])}."]
