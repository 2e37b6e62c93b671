"""Figures 1, 2 and 5: the clients streaming at real time (bench/README.md says how each is measured)."""

import math
from pathlib import Path
from typing import Dict, List

import numpy as np

import clients
import inputs
import report
from asrx_cli.wire import BYTES_PER_SECOND
from report import FigureResult, Row

CPU_SAMPLE_SECONDS = 1.0
SETTLE_SECONDS = 2.0  # after the first frame: start-up is left out of the streaming CPU rate
CHATTY_SENTENCE_SECONDS, CHATTY_PARTIALS = 2.0, 11  # a message every 2 s ÷ 12 = 167 ms
LATENCY_PARTIALS = 2
DRIFT_GOAL, LATENESS_GOAL, LATENCY_GOAL = 0.010, 0.005, 0.002
QUIET_CPU_GOAL, CHATTY_STREAMING_GOAL, CHATTY_WHOLE_GOAL = 0.01, 0.006, 0.01


def frame_lateness(record: dict) -> np.ndarray:
    """Each frame's arrival after its place on the schedule of the first frame (sink run with --frame-times)."""
    sizes, arrivals = np.array(record["sizes"]), np.array(record["arrivals"])
    return arrivals - arrivals[0] - np.concatenate([[0], np.cumsum(sizes[:-1])]) / BYTES_PER_SECOND


def measure(run: clients.Client, record: dict) -> dict:
    late = frame_lateness(record)
    audio_seconds = record["bytes"] / BYTES_PER_SECOND
    streaming = np.array([(t, cpu) for t, cpu, _ in run.cpu_samples
                          if record["first_frame"] + SETTLE_SECONDS <= t <= record["last_frame"]])
    return {"audio_seconds": audio_seconds, "frames": record["frames"], "drift": float(late[-1]),
            "lateness": report.summary(late), "cpu_total": run.cpu_seconds,
            "cpu_whole": run.cpu_seconds / audio_seconds, "messages": len(record["sent"]),
            "cpu_streaming": float(np.polyfit(streaming[:, 0], streaming[:, 1], 1)[0])}


def pacing(workdir: Path, seconds: float) -> FigureResult:
    audio = inputs.write(workdir / "pacing.raw", seconds)
    flac = inputs.write(workdir / "pacing.flac", seconds, 44100, 2)
    chatty = ("--sentences", str(math.ceil(seconds / CHATTY_SENTENCE_SECONDS)), "--every",
              str(CHATTY_SENTENCE_SECONDS), "--partials", str(CHATTY_PARTIALS))
    with clients.SinkProcess("--frame-times") as quiet, clients.SinkProcess("--frame-times", *chatty) as talker:
        sinks = {"asrx": quiet, "baseline": quiet, "asrx-chatty": talker, "baseline-chatty": talker,
                 "asrx-flac": talker}
        running = {name: clients.Client(clients.command(name, flac if name == "asrx-flac" else audio,
                                                        sink.url(name)), CPU_SAMPLE_SECONDS)
                   for name, sink in sinks.items()}
        # The baseline drifts late by design: give it room to finish.
        runs = {name: client.finish(seconds * 1.5 + 60) for name, client in running.items()}
        results = {name: measure(runs[name], sinks[name].record(name)) for name in runs}
    cpu = ", ".join(f"{name} {result['cpu_total']:.3f} s" for name, result in results.items())
    note = (f"Pacing: {results['asrx']['audio_seconds']:.1f} s of audio for each of five clients side by side; the "
            f"chatty sink sent {results['asrx-chatty']['messages']} messages. Client CPU over the whole run: {cpu}.")
    return FigureResult("pacing", pacing_rows(results, seconds), [note], results)


def pacing_rows(results: Dict[str, dict], seconds: float) -> List[Row]:
    a, b, f = results["asrx"], results["baseline"], results["asrx-flac"]
    length = f"{seconds / 60:g} min" if seconds % 60 == 0 else f"{seconds:g} s"

    def late(result):
        return report.ms_list(result["lateness"], "p50", "p99", "max")

    def cpu(label: str, key: str, suffix: str, goal: float) -> Row:
        a, b = results["asrx" + suffix], results["baseline" + suffix]
        return Row(f"2. Client CPU s per audio s at speed 1, {label}", f"{a[key]:.4f}", f"{b[key]:.4f}",
                   report.ratio(a[key], b[key]), f"≤ {goal:g}", a[key] <= goal)

    return [
        Row(f"1. Pacing, drift at the end of {length} of 16 kHz PCM (speed 1)", report.ms(a["drift"]),
            report.ms(b["drift"]), report.ratio(abs(a["drift"]), abs(b["drift"])), "within ±10 ms",
            abs(a["drift"]) <= DRIFT_GOAL),
        Row("1. Pacing, chunk lateness p50 / p99 / max", late(a), late(b),
            report.ratio(a["lateness"]["p99"], b["lateness"]["p99"], "p99"), "p99 ≤ 5 ms",
            a["lateness"]["p99"] <= LATENESS_GOAL),
        Row(f"1. Pacing, {length} of 44.1 kHz stereo FLAC: drift; lateness p50 / p99 / max",
            f"{report.ms(f['drift'])}; {late(f)}", goal="drift within ±10 ms, p99 ≤ 5 ms",
            met=abs(f["drift"]) <= DRIFT_GOAL and f["lateness"]["p99"] <= LATENESS_GOAL),
        cpu("quiet server, whole run with start-up", "cpu_whole", "", QUIET_CPU_GOAL),
        cpu("quiet server, streaming only", "cpu_streaming", "", QUIET_CPU_GOAL),
        cpu("chatty server, whole run with start-up", "cpu_whole", "-chatty", CHATTY_WHOLE_GOAL),
        cpu("chatty server, streaming only", "cpu_streaming", "-chatty", CHATTY_STREAMING_GOAL),
    ]


def line_latencies(record: dict, lines) -> List[float]:
    """For each sentence made final by the next one's NewSentence: its line's arrival minus that message's sending."""
    last, opened = {}, {}
    for index, text, sent in record["sent"]:
        last[index] = text
        opened.setdefault(index, sent)
    printed = {text: stamp for stamp, text in lines}
    final = [(index, text) for index, text in last.items() if index + 1 in opened]  # the last ends otherwise
    missing = [text for _, text in final if text not in printed]
    if missing:
        raise RuntimeError(f"the client never printed {missing[0]!r}")
    return [printed[text] - opened[index + 1] for index, text in final]


def latency(workdir: Path, sentences: int, every: float) -> FigureResult:
    seconds = (sentences + 1) * every + 1.0
    audio = inputs.write(workdir / "latency.raw", seconds)
    results = {}
    script = ("--sentences", str(sentences), "--every", str(every), "--partials", str(LATENCY_PARTIALS))
    with clients.SinkProcess(*script) as sink:
        for name in ("asrx", "baseline"):  # one at a time: each has the machine to itself
            run = clients.Client(clients.command(name, audio, sink.url(name))).finish(seconds * 1.5 + 60)
            results[name] = report.summary(line_latencies(sink.record(name), run.lines))
    a, b = results["asrx"], results["baseline"]
    row = Row("5. Result latency, server send → line on the pipe, p50 / p99", report.ms_list(a, "p50", "p99"),
              report.ms_list(b, "p50", "p99"), report.ratio(a["p99"], b["p99"], "p99"), "p99 ≤ 2 ms",
              a["p99"] <= LATENCY_GOAL)
    note = (f"Result latency: {a['n']} sentences per client, one every {every * 1000:.0f} ms with "
            f"{LATENCY_PARTIALS} partials each; max {report.ms(a['max'], 2)} for asrx, "
            f"{report.ms(b['max'], 2)} for the baseline.")
    return FigureResult("latency", [row], [note], results)
