"""Figures 4, 6 and 7: memory, shutdown and start-up of whole client processes."""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from asrx_cli.wire import BYTES_PER_SECOND
from bench import clients
from bench.report import FigureResult, ms, paired, summary, within

RSS_GOAL_MB, GROWTH_GOAL, HELP_GOAL = 100, 1.1, 0.150
LIFECYCLE_AUDIO_SECONDS = 1.0
CLIENTS = ("asrx", "baseline")


def memory(options, workdir: Path) -> FigureResult:
    lengths = {"1 min": 60, f"{options.memory_hours:g} h": options.memory_hours * 3600}
    peaks, rows = {}, []
    with clients.SinkProcess() as sink:
        for length, seconds in lengths.items():
            audio = clients.audio_file(workdir / "memory.wav", seconds)
            for name in CLIENTS:
                tag = f"{name}-{seconds:g}"
                command = clients.command(name, audio, sink.url(tag), speed=0)
                peaks[f"{name} {length}"] = clients.peak_rss_mb(command, 120 + seconds / 20)
                hours_sent = sink.record(tag)["bytes"] / BYTES_PER_SECOND / 3600
            Path(audio).unlink()
            ours, theirs = peaks[f"asrx {length}"], peaks[f"baseline {length}"]
            rows.append(paired(f"4. Peak RSS streaming {length} (speed 0)", ours, theirs,
                               "{:.1f} MB".format, goal="< 100 MB", met=ours < RSS_GOAL_MB))
    short, long = lengths
    growth = {name: peaks[f"{name} {long}"] / peaks[f"{name} {short}"] for name in CLIENTS}
    rows.append(paired(f"4. Peak RSS, {long} ÷ {short}", growth["asrx"], growth["baseline"],
                       "{:.3f}".format, goal="≤ 1.1", met=growth["asrx"] <= GROWTH_GOAL))
    note = (f"Memory: ru_maxrss of the client process, through GNU time; the long file held "
            f"{hours_sent:.2f} h of audio.")
    return FigureResult("memory", rows, [note], {"peaks_mb": peaks})


def lifecycle(options, workdir: Path) -> FigureResult:
    audio = clients.audio_file(workdir / "lifecycle.raw", LIFECYCLE_AUDIO_SECONDS)
    first_byte, shutdown = {name: [] for name in CLIENTS}, {name: [] for name in CLIENTS}
    with clients.SinkProcess() as sink:
        for index in range(options.runs):
            for name in CLIENTS:
                run, record = sink.stream(name, audio, f"{name}-{index}", 60)
                first_byte[name].append(record["first_frame"] - run.started)
                shutdown[name].append(run.exited - record["end_marker_sent"])
    first = {name: summary(values) for name, values in first_byte.items()}
    down = {name: summary(values) for name, values in shutdown.items()}
    rows = [within("6. Shutdown, end marker sent → process exit, p50 / max", down["asrx"],
                   down["baseline"], ("p50", "max"), "max", 0.100),
            within("7. Start-up, process start → first audio byte at the server, p50 / max",
                   first["asrx"], first["baseline"], ("p50", "max"), "p50", 0.300)]
    note = (f"Start and shutdown: {options.runs} runs of each client on "
            f"{LIFECYCLE_AUDIO_SECONDS:g} s of audio, alternating.")
    return FigureResult("lifecycle", rows, [note], {"first_byte": first_byte, "shutdown": shutdown})


def costliest_imports(count: int = 4) -> list[str]:
    """The top-level imports of `asrx --help` with the highest cumulative time (-X importtime)."""
    command = [sys.executable, "-X", "importtime", "-c", "from asrx_cli.cli import main; main()",
               "--help"]
    stderr = subprocess.run(command, capture_output=True, text=True,
                            env=clients.client_environment()).stderr
    lines = re.findall(r"^import time:\s+\d+ \|\s+(\d+) \| ?(\S+)$", stderr, re.MULTILINE)
    costs = sorted(((int(micros), name) for micros, name in lines), reverse=True)
    return [f"{name} {micros / 1000:.0f} ms" for micros, name in costs[:count]]


def startup(options, workdir: Path) -> FigureResult:
    commands = {"python": f"{sys.executable} -c pass",
                "asrx": " ".join(clients.asrx_command() + ["--help"]),
                "baseline": f"{sys.executable} {clients.BENCH_DIR / 'baseline.py'} --help"}
    with tempfile.NamedTemporaryFile(suffix=".json") as export:
        subprocess.run(["hyperfine", "--style", "none", "--shell", "none", "--warmup", "3",
                        "--runs", str(options.runs), "--export-json", export.name,
                        *commands.values()],
                       check=True, stdout=subprocess.DEVNULL, env=clients.client_environment())
        measured = dict(zip(commands, json.load(export)["results"]))
    medians = {name: result["median"] for name, result in measured.items()}
    spread = {name: result["stddev"] for name, result in measured.items()}
    over = {name: medians[name] - medians["python"] for name in CLIENTS}
    row = paired("7. Start-up, `--help` wall time over `python -c pass` (median)", over["asrx"],
                 over["baseline"], ms, goal="≤ 150 ms", met=over["asrx"] <= HELP_GOAL)
    imports = costliest_imports()
    note = (f"`--help`: hyperfine, {options.runs} runs each after 3 warm-ups; median (stddev) "
            f"`python -c pass` {ms(medians['python'])} ({ms(spread['python'])}), `asrx --help` "
            f"{ms(medians['asrx'])} ({ms(spread['asrx'])}). Costliest imports of `asrx --help` "
            f"(-X importtime, cumulative): {', '.join(imports)}.")
    return FigureResult("startup", [row], [note],
                        {"medians": medians, "stddev": spread, "imports": imports})
