"""Figures 6 and 7 (second half): start to first audio byte, end marker to exit.

Short runs, asrx and the baseline alternately, each in its default paced
mode. The bench stamps the moment before it starts the process and the
moment wait4 returns; the sink stamps the first frame's arrival and the
moment it sends the end marker.
"""

from pathlib import Path
from typing import List

import inputs
import processes
import report
import stats
from report import FigureResult, Row

AUDIO_SECONDS = 1.0
SHUTDOWN_GOAL = 0.100
FIRST_BYTE_GOAL = 0.300


def run(workdir: Path, runs: int) -> FigureResult:
    audio = str(inputs.write_raw(workdir / "lifecycle.raw", AUDIO_SECONDS))
    samples = {"asrx": {"first_byte": [], "shutdown": []}, "baseline": {"first_byte": [], "shutdown": []}}
    with processes.SinkProcess() as sink:
        for index in range(runs):
            commands = {"asrx": processes.asrx_command(audio, sink.url(f"asrx-{index}"), 1),
                        "baseline": processes.baseline_command(audio, sink.url(f"baseline-{index}"))}
            for client, command in commands.items():
                result = processes.Client(command).finish(60)
                record = sink.record(f"{client}-{index}")
                samples[client]["first_byte"].append(record["first_frame"] - result.started)
                samples[client]["shutdown"].append(result.exited - record["end_marker_sent"])
    results = {client: {name: {"summary": stats.summary(values), "values": values}
                        for name, values in figures.items()} for client, figures in samples.items()}
    results["runs"] = runs
    return FigureResult("lifecycle", rows(results), notes(results), results)


def _p50_max(summary: dict) -> str:
    return report.ms_triple([summary["p50"], summary["max"]])


def rows(results: dict) -> List[Row]:
    a, b = results["asrx"], results["baseline"]
    shutdown_a, shutdown_b = a["shutdown"]["summary"], b["shutdown"]["summary"]
    first_a, first_b = a["first_byte"]["summary"], b["first_byte"]["summary"]
    return [
        Row("6. Shutdown, end marker sent → process exit, p50 / max", _p50_max(shutdown_a),
            _p50_max(shutdown_b), report.ratio(shutdown_a["max"], shutdown_b["max"]) + " (max)",
            "max ≤ 100 ms", shutdown_a["max"] <= SHUTDOWN_GOAL),
        Row("7. Start-up, process start → first audio byte at the server, p50 / max", _p50_max(first_a),
            _p50_max(first_b), report.ratio(first_a["p50"], first_b["p50"]) + " (p50)",
            "p50 ≤ 300 ms", first_a["p50"] <= FIRST_BYTE_GOAL),
    ]


def notes(results: dict) -> List[str]:
    return [f"Start and shutdown: {results['runs']} runs of each client on {AUDIO_SECONDS:g} s of audio, "
            f"alternating. Shutdown is judged on the slowest run (it is deterministic work: a wait in it "
            f"shows in every run); start-up on the median, since import times follow the load of a "
            f"shared machine."]
