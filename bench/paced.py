"""Figures 1, 2 and 5: the clients streaming at real time."""

import math
from pathlib import Path

import numpy as np

from asrx_cli.wire import BYTES_PER_SECOND
from bench import clients
from bench.report import FigureResult, Row, ms, ms_of, paired, ratio, summary, within
from bench.sink import build_script

SETTLE_SECONDS = 2.0  # after the first frame: start-up is left out of the streaming CPU rate
CHATTY_SENTENCE_SECONDS, CHATTY_PARTIALS = 2.0, 11  # a message every 2 s ÷ 12 = 167 ms
LATENCY_SENTENCE_SECONDS, LATENCY_PARTIALS = 0.05, 2
DRIFT_GOAL, LATENESS_GOAL, DRIFT_WINDOW = 0.010, 0.005, 1.0
# (server, the rate measured, its goal): the rows of figure 2
CPU_ROWS = [("quiet", "whole", 0.01), ("quiet", "streaming", 0.01),
            ("chatty", "whole", 0.01), ("chatty", "streaming", 0.006)]
CPU_WHAT = {"whole": "whole run with start-up", "streaming": "streaming only"}


def frame_lateness(record: dict) -> tuple[np.ndarray, np.ndarray]:
    """Each frame's place on the schedule of the first frame, and its arrival after that place
    (negative: sent ahead, as asrx sends every other frame with the one before it)."""
    sizes, arrivals = np.array(record["sizes"]), np.array(record["arrivals"])
    due = np.concatenate([[0], np.cumsum(sizes[:-1])]) / BYTES_PER_SECOND
    return due, arrivals - arrivals[0] - due


def drift(record: dict) -> float:
    """How much later frames arrive at the end than at the start: the mean lateness of the last
    second's frames less the first second's, whatever the cadence within a second."""
    due, late = frame_lateness(record)
    return float(late[due >= due[-1] - DRIFT_WINDOW].mean() - late[due < DRIFT_WINDOW].mean())


def measure(run: clients.Client, record: dict) -> dict:
    late = frame_lateness(record)[1]
    audio_seconds = record["bytes"] / BYTES_PER_SECOND
    streaming = np.array([(t, cpu) for t, cpu in run.cpu_samples
                          if record["first_frame"] + SETTLE_SECONDS <= t <= record["last_frame"]])
    return {"audio_seconds": audio_seconds, "frames": record["frames"], "drift": drift(record),
            "lateness": summary(late), "cpu_total": run.cpu_seconds,
            "whole": run.cpu_seconds / audio_seconds, "messages": len(record["sent"]),
            "streaming": float(np.polyfit(streaming[:, 0], streaming[:, 1], 1)[0])}


def pacing(options, workdir: Path) -> FigureResult:
    seconds = options.pacing_seconds
    audio = clients.audio_file(workdir / "pacing.raw", seconds)
    flac = clients.audio_file(workdir / "pacing.flac", seconds, 44100, 2)
    chatty = build_script(math.ceil(seconds / CHATTY_SENTENCE_SECONDS), CHATTY_SENTENCE_SECONDS,
                          CHATTY_PARTIALS)
    with clients.SinkProcess() as quiet, clients.SinkProcess(chatty) as talker:
        sinks = {"asrx-quiet": quiet, "baseline-quiet": quiet, "asrx-chatty": talker,
                 "baseline-chatty": talker, "floor-chatty": talker, "asrx-flac": talker}
        running = {name: clients.Client(clients.command(name, flac if "flac" in name else audio,
                                                        sink.url(name)))
                   for name, sink in sinks.items()}
        # The baseline drifts late by design: give it room to finish.
        results = {name: measure(client.finish(seconds * 1.5 + 60), sinks[name].record(name))
                   for name, client in running.items()}
    cpu = ", ".join(f"{name} {result['cpu_total']:.3f} s" for name, result in results.items())
    note = (f"Pacing: {results['asrx-quiet']['audio_seconds']:.1f} s of audio for each of six "
            f"clients side by side; the chatty sink sent {results['asrx-chatty']['messages']} "
            f"messages. Client CPU over the whole run: {cpu}.")
    return FigureResult("pacing", pacing_rows(results, seconds), [note], results)


def pacing_rows(results: dict, seconds: float) -> list[Row]:
    a, b, f = results["asrx-quiet"], results["baseline-quiet"], results["asrx-flac"]
    length = f"{seconds / 60:g} min" if seconds % 60 == 0 else f"{seconds:g} s"
    rows = [
        Row(f"1. Pacing, drift at the end of {length} of 16 kHz PCM (speed 1)", ms(a["drift"]),
            ms(b["drift"]), ratio(abs(a["drift"]), abs(b["drift"])), "within ±10 ms",
            abs(a["drift"]) <= DRIFT_GOAL),
        within("1. Pacing, chunk lateness p50 / p99 / max", a["lateness"], b["lateness"],
               ("p50", "p99", "max"), "p99", LATENESS_GOAL),
        Row(f"1. Pacing, {length} of 44.1 kHz stereo FLAC: drift; lateness p50 / p99 / max",
            f"{ms(f['drift'])}; {ms_of('p50', 'p99', 'max')(f['lateness'])}",
            goal="drift within ±10 ms, p99 ≤ 5 ms",
            met=abs(f["drift"]) <= DRIFT_GOAL and f["lateness"]["p99"] <= LATENESS_GOAL),
    ]
    for server, rate, goal in CPU_ROWS:
        ours, theirs = results[f"asrx-{server}"][rate], results[f"baseline-{server}"][rate]
        rows.append(paired(f"2. Client CPU s per audio s at speed 1, {server} server, "
                           f"{CPU_WHAT[rate]}", ours, theirs, "{:.4f}".format,
                           goal=f"≤ {goal:g}", met=ours <= goal))
    rows.append(paired("2. Client CPU s per audio s, chatty server, streaming only, beside the "
                       "floor: the baseline's sending alone (sleep and send, nothing received)",
                       results["asrx-chatty"]["streaming"], results["floor-chatty"]["streaming"],
                       "{:.4f}".format))
    return rows


def line_latencies(record: dict, lines) -> list[float]:
    """Of each sentence made final by the next one's NewSentence: line arrival - message sending."""
    last = {index: text for index, text, _ in record["sent"]}
    opened = {index: sent for index, _, sent in reversed(record["sent"])}  # each one's first
    printed = {text: stamp for stamp, text in lines}
    final = [(index, text) for index, text in last.items() if index + 1 in opened]
    missing = [text for _, text in final if text not in printed]  # the last ends otherwise
    if missing:
        raise RuntimeError(f"the client never printed {missing[0]!r}")
    return [printed[text] - opened[index + 1] for index, text in final]


def latency(options, workdir: Path) -> FigureResult:
    every = LATENCY_SENTENCE_SECONDS
    seconds = (options.sentences + 1) * every + 1.0
    audio = clients.audio_file(workdir / "latency.raw", seconds)
    with clients.SinkProcess(build_script(options.sentences, every, LATENCY_PARTIALS)) as sink:
        # One client at a time: each has the machine to itself.
        runs = {name: sink.stream(name, audio, name, seconds * 1.5 + 60)
                for name in ("asrx", "baseline")}
    results = {name: summary(line_latencies(record, run.lines))
               for name, (run, record) in runs.items()}
    a, b = results["asrx"], results["baseline"]
    row = within("5. Result latency, server send → line on the pipe, p50 / p99", a, b,
                 ("p50", "p99"), "p99", 0.002)
    note = (f"Result latency: {a['n']} sentences per client, one every {every * 1000:.0f} ms with "
            f"{LATENCY_PARTIALS} partials each; max {ms(a['max'], 2)} for asrx, "
            f"{ms(b['max'], 2)} for the baseline.")
    return FigureResult("latency", [row], [note], results)
