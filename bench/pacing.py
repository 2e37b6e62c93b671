"""Figures 1 and 2: pacing at --speed 1, and the client's CPU while it paces.

asrx and the baseline stream the same headerless 16 kHz file side by side,
each on a connection of its own to one sink process. The sink stamps every
frame on arrival; frame n is due at (audio before frame n) / 32000 s after
frame 0, so its lateness is its arrival minus that, relative to frame 0.
"""

from pathlib import Path
from typing import List, Tuple

import inputs
import processes
import report
import stats
from report import FigureResult, Row

BYTES_PER_SECOND = 32000
CPU_SAMPLE_SECONDS = 1.0
SETTLE_SECONDS = 2.0  # start-up is left out of the streaming CPU rate

DRIFT_GOAL = 0.010
P99_GOAL = 0.005
CPU_GOAL = 0.01


def lateness(record: dict) -> List[float]:
    """Seconds each frame arrived after its place on the schedule of the first frame."""
    first, due, late = record["arrivals"][0], 0.0, []
    for arrival, size in zip(record["arrivals"], record["sizes"], strict=True):
        late.append(arrival - first - due)
        due += size / BYTES_PER_SECOND
    return late


def streaming_cpu_rate(samples: List[Tuple[float, float, float]], record: dict) -> float:
    """CPU seconds per wall second while frames flow, from the sampled thread CPU times."""
    start, end = record["first_frame"] + SETTLE_SECONDS, record["last_frame"]
    return stats.slope([(t, cpu) for t, cpu, _ in samples if start <= t <= end])


def measure_client(run: processes.ClientRun, record: dict) -> dict:
    late = lateness(record)
    audio_seconds = record["bytes"] / BYTES_PER_SECOND
    return {
        "audio_seconds": audio_seconds,
        "frames": record["frames"],
        "drift": late[-1],
        "lateness": stats.summary(late),
        "cpu_total": run.cpu_seconds,
        "cpu_per_audio_second": run.cpu_seconds / audio_seconds,
        "cpu_streaming_rate": streaming_cpu_rate(run.cpu_samples, record),
    }


def run(workdir: Path, seconds: float) -> FigureResult:
    audio = str(inputs.write_raw(workdir / "pacing.raw", seconds))
    # A compressed input as well, which asrx must decode and resample as it paces.
    flac = str(inputs.write_sound_file(workdir / "pacing.flac", seconds, 44100, 2))
    with processes.SinkProcess("--frame-times") as sink:
        clients = {
            "asrx": processes.Client(processes.asrx_command(audio, sink.url("asrx"), 1),
                                     sample_cpu_every=CPU_SAMPLE_SECONDS),
            "baseline": processes.Client(processes.baseline_command(audio, sink.url("baseline")),
                                         sample_cpu_every=CPU_SAMPLE_SECONDS),
            "asrx-flac": processes.Client(processes.asrx_command(flac, sink.url("asrx-flac"), 1),
                                          sample_cpu_every=CPU_SAMPLE_SECONDS),
        }
        # The baseline drifts late by design: give it room to finish.
        runs = {name: client.finish(seconds * 1.5 + 60) for name, client in clients.items()}
        results = {name: measure_client(runs[name], sink.record(name)) for name in clients}
    return FigureResult("pacing", rows(results, seconds), notes(results), results)


def duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds % 60 == 0 else f"{seconds:g} s"


def rows(results: dict, seconds: float) -> List[Row]:
    a, b = results["asrx"], results["baseline"]
    minutes = duration(seconds)
    f = results["asrx-flac"]
    return [
        Row(f"1. Pacing, drift at the end of {minutes} of 16 kHz PCM (speed 1)", report.ms(a["drift"]),
            report.ms(b["drift"]), report.ratio(abs(a["drift"]), abs(b["drift"])),
            "within ±10 ms", abs(a["drift"]) <= DRIFT_GOAL),
        Row("1. Pacing, chunk lateness p50 / p99 / max", _lateness(a), _lateness(b),
            report.ratio(a["lateness"]["p99"], b["lateness"]["p99"]) + " (p99)",
            "p99 ≤ 5 ms", a["lateness"]["p99"] <= P99_GOAL),
        Row(f"1. Pacing, {minutes} of 44.1 kHz stereo FLAC: drift; lateness p50 / p99 / max",
            f"{report.ms(f['drift'])}; {_lateness(f)}", goal="drift within ±10 ms, p99 ≤ 5 ms",
            met=abs(f["drift"]) <= DRIFT_GOAL and f["lateness"]["p99"] <= P99_GOAL),
        Row("2. Client CPU s per audio s at speed 1 (whole run, with start-up)",
            f"{a['cpu_per_audio_second']:.4f}", f"{b['cpu_per_audio_second']:.4f}",
            report.ratio(a["cpu_per_audio_second"], b["cpu_per_audio_second"]),
            "≤ 0.01", a["cpu_per_audio_second"] <= CPU_GOAL, why_cpu(a)),
        Row("2. Client CPU s per audio s, streaming only", f"{a['cpu_streaming_rate']:.4f}",
            f"{b['cpu_streaming_rate']:.4f}", report.ratio(a["cpu_streaming_rate"], b["cpu_streaming_rate"]),
            "≤ 0.01", a["cpu_streaming_rate"] <= CPU_GOAL),
    ]


def why_cpu(result: dict) -> str:
    """Streaming cost against the fixed cost of starting and stopping, both measured."""
    streaming = result["cpu_streaming_rate"] * result["audio_seconds"]
    fixed = result["cpu_total"] - streaming
    return (f"streaming costs {result['cpu_streaming_rate']:.4f} CPU s per audio s; the other "
            f"{fixed:.2f} s of the run's {result['cpu_total']:.2f} s are start-up and shutdown, which "
            f"{result['audio_seconds']:.0f} s of audio spread to {fixed / result['audio_seconds']:.4f} per "
            f"audio s (longer inputs dilute them: --pacing-seconds)")


def _lateness(result: dict) -> str:
    late = result["lateness"]
    return report.ms_triple([late["p50"], late["p99"], late["max"]])


def notes(results: dict) -> List[str]:
    a, b = results["asrx"], results["baseline"]
    return [
        f"Pacing: {a['frames']} frames each ({a['audio_seconds']:.1f} s of audio); the FLAC file, decoded and "
        f"resampled by asrx on the way, ran beside them. The baseline "
        f"sleeps 32 ms after each send, so every send and every oversleep adds up: it ended "
        f"{report.ms(b['drift'], 0)} late, {report.ms(b['drift'] / b['frames'], 3)} per frame; asrx "
        f"sends frame n at t0 + n × 32 ms on the monotonic clock, so a late wake-up never carries over.",
        f"Client CPU: rusage of the client process (user + system) over the whole run, start-up "
        f"included ({a['cpu_total']:.3f} s for asrx, {b['cpu_total']:.3f} s for the baseline); "
        f"'streaming only' is the slope of the process's CPU time (/proc/PID/stat, sampled every "
        f"{CPU_SAMPLE_SECONDS:g} s) from {SETTLE_SECONDS:g} s after the first frame to the last.",
    ]
