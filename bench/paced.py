"""Figures 1, 2 and 5: the clients streaming at real time.

Pacing and CPU (1, 2): asrx and the baseline stream the same 16 kHz file side
by side, each to a quiet sink (it only answers the end of stream) and to a
chatty one (a partial every 167 ms, as `asrx serve` and the service send), and
asrx streams a 44.1 kHz stereo FLAC of the same length beside them. The sinks
stamp every frame: frame n is due (audio before it) ÷ BYTES_PER_SECOND after
frame 0, and its lateness is its arrival minus that. CPU: the client's own
rusage over the whole run, and the slope of its /proc CPU time while frames
flow, start-up left out.

Result latency (5): the sink sends a sentence every 50 ms, each growing
through 2 partials and made final by the next NewSentence; from the sink's
stamp before that NewSentence to the bench reading the sentence's line on the
client's stdout pipe.
"""

import math
from pathlib import Path
from typing import Dict, List

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


def lateness(record: dict) -> List[float]:
    """Seconds each frame arrived after its place on the schedule of the first frame."""
    first, due, late = record["arrivals"][0], 0.0, []
    for arrival, size in zip(record["arrivals"], record["sizes"]):
        late.append(arrival - first - due)
        due += size / BYTES_PER_SECOND
    return late


def measure(run: clients.ClientRun, record: dict) -> dict:
    late, audio_seconds = lateness(record), record["bytes"] / BYTES_PER_SECOND
    start, end = record["first_frame"] + SETTLE_SECONDS, record["last_frame"]
    return {"audio_seconds": audio_seconds, "frames": record["frames"], "drift": late[-1],
            "lateness": report.summary(late), "cpu_total": run.cpu_seconds,
            "cpu_whole": run.cpu_seconds / audio_seconds, "messages": len(record["sent"]),
            "cpu_streaming": report.slope([(t, cpu) for t, cpu, _ in run.cpu_samples if start <= t <= end])}


def pacing(workdir: Path, seconds: float) -> FigureResult:
    audio = str(inputs.write_raw(workdir / "pacing.raw", seconds))
    flac = str(inputs.write_sound_file(workdir / "pacing.flac", seconds, 44100, 2))
    chatty = ("--sentences", str(math.ceil(seconds / CHATTY_SENTENCE_SECONDS)), "--every",
              str(CHATTY_SENTENCE_SECONDS), "--partials", str(CHATTY_PARTIALS))
    with clients.SinkProcess("--frame-times") as quiet, clients.SinkProcess("--frame-times", *chatty) as talker:
        commands = {"asrx": clients.asrx_command(audio, quiet.url("asrx"), 1),
                    "baseline": clients.baseline_command(audio, quiet.url("baseline")),
                    "asrx-chatty": clients.asrx_command(audio, talker.url("asrx-chatty"), 1),
                    "baseline-chatty": clients.baseline_command(audio, talker.url("baseline-chatty")),
                    "asrx-flac": clients.asrx_command(flac, talker.url("asrx-flac"), 1)}
        running = {name: clients.Client(command, CPU_SAMPLE_SECONDS) for name, command in commands.items()}
        # The baseline drifts late by design: give it room to finish.
        runs = {name: client.finish(seconds * 1.5 + 60) for name, client in running.items()}
        results = {name: measure(runs[name], (talker if "-" in name else quiet).record(name)) for name in runs}
    return FigureResult("pacing", pacing_rows(results, seconds), pacing_notes(results), results)


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


def pacing_notes(results: Dict[str, dict]) -> List[str]:
    a, b, c = results["asrx"], results["baseline"], results["asrx-chatty"]
    return [f"Pacing: {a['frames']} frames each ({a['audio_seconds']:.1f} s of audio), five clients side by "
            f"side. The baseline sleeps 32 ms after each send, so every send and oversleep adds up: it ended "
            f"{report.ms(b['drift'], 0)} late; asrx sends frame n at t0 + n × 32 ms on the monotonic clock.",
            f"Client CPU, whole run: asrx {a['cpu_total']:.3f} s (quiet), {c['cpu_total']:.3f} s (chatty, "
            f"{c['messages']} messages received); the baseline {b['cpu_total']:.3f} s and "
            f"{results['baseline-chatty']['cpu_total']:.3f} s. Streaming: the slope of /proc CPU time sampled "
            f"every {CPU_SAMPLE_SECONDS:g} s, from {SETTLE_SECONDS:g} s after the first frame to the last."]


def line_latencies(record: dict, lines) -> List[float]:
    """For each sentence made final by a NewSentence: its line's arrival minus that message's sending."""
    last_text: Dict[int, str] = {}
    opened: Dict[int, float] = {}
    for index, text, sent in record["sent"]:
        last_text[index] = text
        opened.setdefault(index, sent)
    arrivals = {text: stamp for stamp, text in lines}
    latencies = []
    for index, text in last_text.items():
        if index + 1 in opened:  # the last sentence is closed by the end marker instead
            if text not in arrivals:
                raise RuntimeError(f"the client never printed sentence {index}: {text!r}")
            latencies.append(arrivals[text] - opened[index + 1])
    return latencies


def latency(workdir: Path, sentences: int, every: float) -> FigureResult:
    seconds = (sentences + 1) * every + 1.0
    audio = str(inputs.write_raw(workdir / "latency.raw", seconds))
    results = {}
    script = ("--sentences", str(sentences), "--every", str(every), "--partials", str(LATENCY_PARTIALS))
    with clients.SinkProcess(*script) as sink:
        commands = {"asrx": clients.asrx_command(audio, sink.url("asrx"), 1),
                    "baseline": clients.baseline_command(audio, sink.url("baseline"))}
        for name, command in commands.items():  # one at a time: each has the machine to itself
            run = clients.Client(command).finish(seconds * 1.5 + 60)
            results[name] = report.summary(line_latencies(sink.record(name), run.lines))
    a, b = results["asrx"], results["baseline"]
    row = Row("5. Result latency, server send → line on the pipe, p50 / p99", report.ms_list(a, "p50", "p99"),
              report.ms_list(b, "p50", "p99"), report.ratio(a["p99"], b["p99"], "p99"), "p99 ≤ 2 ms",
              a["p99"] <= LATENCY_GOAL)
    note = (f"Result latency: {a['n']} sentences per client, one every {every * 1000:.0f} ms with "
            f"{LATENCY_PARTIALS} partials each; max {report.ms(a['max'], 2)} for asrx, "
            f"{report.ms(b['max'], 2)} for the baseline.")
    return FigureResult("latency", [row], [note], results)
