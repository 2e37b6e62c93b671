"""Figures 4, 6 and 7: memory, shutdown and start-up of whole client processes."""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List

import clients
import inputs
import report
from asrx_cli.wire import BYTES_PER_SECOND
from report import FigureResult, Row

RSS_GOAL_MB, GROWTH_GOAL = 100, 1.1
SHUTDOWN_GOAL, FIRST_BYTE_GOAL, HELP_GOAL = 0.100, 0.300, 0.150
LIFECYCLE_AUDIO_SECONDS = 1.0


def memory(workdir: Path, short_minutes: float, long_hours: float) -> FigureResult:
    lengths = {"short": f"{short_minutes:g} min", "long": f"{long_hours:g} h"}
    peaks, sent = {}, 0.0
    with clients.SinkProcess() as sink:
        for length, seconds in (("short", short_minutes * 60), ("long", long_hours * 3600)):
            audio = inputs.write(workdir / f"memory-{length}.wav", seconds)
            for name in ("asrx", "baseline"):
                command = clients.command(name, audio, sink.url(f"{name}-{length}"), speed=0)
                peaks[f"{name}-{length}"] = clients.peak_rss_mb(command, 120 + seconds / 20)
                sent = sink.record(f"{name}-{length}")["bytes"] / BYTES_PER_SECOND / 3600
            Path(audio).unlink()
    growth = {name: peaks[f"{name}-long"] / peaks[f"{name}-short"] for name in ("asrx", "baseline")}
    rows = [Row(f"4. Peak RSS streaming {lengths[key]} (speed 0)", f"{peaks['asrx-' + key]:.1f} MB",
                f"{peaks['baseline-' + key]:.1f} MB", report.ratio(peaks["asrx-" + key], peaks["baseline-" + key]),
                "< 100 MB", peaks["asrx-" + key] < RSS_GOAL_MB) for key in lengths]
    rows.append(Row(f"4. Peak RSS, {lengths['long']} ÷ {lengths['short']}", f"{growth['asrx']:.3f}",
                    f"{growth['baseline']:.3f}", report.ratio(growth["asrx"], growth["baseline"]), "≤ 1.1",
                    growth["asrx"] <= GROWTH_GOAL))
    note = f"Memory: ru_maxrss of the client process, through GNU time; the long file held {sent:.2f} h of audio."
    return FigureResult("memory", rows, [note], {"peaks_mb": peaks})


def lifecycle(workdir: Path, runs: int) -> FigureResult:
    audio = inputs.write(workdir / "lifecycle.raw", LIFECYCLE_AUDIO_SECONDS)
    first_byte, shutdown = {"asrx": [], "baseline": []}, {"asrx": [], "baseline": []}
    with clients.SinkProcess() as sink:
        for index in range(runs):
            for name in ("asrx", "baseline"):
                run = clients.Client(clients.command(name, audio, sink.url(f"{name}-{index}"))).finish(60)
                record = sink.record(f"{name}-{index}")
                first_byte[name].append(record["first_frame"] - run.started)
                shutdown[name].append(run.exited - record["end_marker_sent"])
    first = {name: report.summary(values) for name, values in first_byte.items()}
    down = {name: report.summary(values) for name, values in shutdown.items()}
    rows = [Row("6. Shutdown, end marker sent → process exit, p50 / max", report.ms_list(down["asrx"], "p50", "max"),
                report.ms_list(down["baseline"], "p50", "max"), report.ratio(down["asrx"]["max"],
                                                                             down["baseline"]["max"], "max"),
                "max ≤ 100 ms", down["asrx"]["max"] <= SHUTDOWN_GOAL),
            Row("7. Start-up, process start → first audio byte at the server, p50 / max",
                report.ms_list(first["asrx"], "p50", "max"), report.ms_list(first["baseline"], "p50", "max"),
                report.ratio(first["asrx"]["p50"], first["baseline"]["p50"], "p50"), "p50 ≤ 300 ms",
                first["asrx"]["p50"] <= FIRST_BYTE_GOAL)]
    note = f"Start and shutdown: {runs} runs of each client on {LIFECYCLE_AUDIO_SECONDS:g} s of audio, alternating."
    return FigureResult("lifecycle", rows, [note], {"first_byte": first_byte, "shutdown": shutdown})


def costliest_imports(count: int = 4) -> List[str]:
    """The top-level imports of `asrx --help` with the highest cumulative time (-X importtime)."""
    command = [sys.executable, "-X", "importtime", "-c", "from asrx_cli.cli import main; main()", "--help"]
    stderr = subprocess.run(command, capture_output=True, text=True, env=clients.client_environment()).stderr
    costs = [(int(match.group(1)), match.group(2)) for match in
             re.finditer(r"^import time:\s+\d+ \|\s+(\d+) \| ?(\S+)$", stderr, re.MULTILINE)]
    return [f"{name} {micros / 1000:.0f} ms" for micros, name in sorted(costs, reverse=True)[:count]]


def startup(runs: int) -> FigureResult:
    commands = {"python": f"{sys.executable} -c pass", "asrx": " ".join(clients.asrx_executable() + ["--help"]),
                "baseline": f"{sys.executable} {clients.BENCH_DIR / 'baseline.py'} --help"}
    with tempfile.NamedTemporaryFile(suffix=".json") as export:
        subprocess.run(["hyperfine", "--style", "none", "--shell", "none", "--warmup", "3", "--runs", str(runs),
                        "--export-json", export.name, *commands.values()], check=True,
                       stdout=subprocess.DEVNULL, env=clients.client_environment())
        measured = json.load(export)["results"]
    medians = {name: result["median"] for name, result in zip(commands, measured)}
    spread = {name: result["stddev"] for name, result in zip(commands, measured)}
    over = {name: medians[name] - medians["python"] for name in ("asrx", "baseline")}
    row = Row("7. Start-up, `--help` wall time over `python -c pass` (median)", report.ms(over["asrx"]),
              report.ms(over["baseline"]), report.ratio(over["asrx"], over["baseline"]), "≤ 150 ms",
              over["asrx"] <= HELP_GOAL)
    imports = costliest_imports()
    note = (f"`--help`: hyperfine, {runs} runs each after 3 warm-ups; median (stddev) `python -c pass` "
            f"{report.ms(medians['python'])} ({report.ms(spread['python'])}), `asrx --help` "
            f"{report.ms(medians['asrx'])} ({report.ms(spread['asrx'])}). Costliest imports of `asrx --help` "
            f"(-X importtime, cumulative): {', '.join(imports)}.")
    return FigureResult("startup", [row], [note], {"medians": medians, "stddev": spread, "imports": imports})
