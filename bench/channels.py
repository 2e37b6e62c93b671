"""Figure 13: a call recording's two channels (--channels split) beside one channel."""

from pathlib import Path

import numpy as np

from asrx_cli.wire import BYTES_PER_SECOND
from bench import clients
from bench.paced import DRIFT_GOAL, LATENESS_GOAL, drift, frame_lateness
from bench.report import FigureResult, Row, ms, ms_of, paired, summary

CPU_GOAL = 2.0  # two channels cost at most twice one
TOGETHER_GOAL = 0.005  # p99: frame n of one channel arrives within this of frame n of the other


def run(options, workdir: Path) -> FigureResult:
    seconds = options.pacing_seconds
    mono = clients.audio_file(workdir / "one.wav", seconds)
    stereo = clients.audio_file(workdir / "two.wav", seconds, channels=2)
    with clients.SinkProcess() as sink:
        running = {"one": clients.Client(clients.command("asrx", mono, sink.url("one"))),
                   "two": clients.Client(clients.command("asrx", stereo, sink.url("two"), 1,
                                                         "--channels", "split"))}
        finished = {name: client.finish(seconds * 1.5 + 60) for name, client in running.items()}
        records = {"one": sink.records("one", 1), "two": sink.records("two", 2)}
    results = {name: measure(finished[name], records[name]) for name in finished}
    first, second = (record["first_frame"] for record in records["two"])
    apart = summary(frames_apart(*records["two"]))
    one, two = results["one"], results["two"]
    cost = two["cpu_per_audio_second"] / one["cpu_per_audio_second"]
    late = ms_of("p50", "p99", "max")
    rows = [
        paired("13. Call recording, client CPU s per audio s of input: two channels "
               "(--channels split) / one (baseline column)", two["cpu_per_audio_second"],
               one["cpu_per_audio_second"], "{:.4f}".format,
               goal=f"≤ {CPU_GOAL:g}× one channel", met=cost <= CPU_GOAL),
        Row("13. Call recording, two channels: drift; lateness p50 / p99 / max, each channel",
            "; ".join(f"{ms(d)}; {late(s)}" for d, s in zip(two["drift"], two["lateness"])),
            f"{ms(one['drift'][0])}; {late(one['lateness'][0])}",
            goal="drift within ±10 ms, p99 ≤ 5 ms",
            met=all(abs(d) <= DRIFT_GOAL for d in two["drift"])
            and all(s["p99"] <= LATENESS_GOAL for s in two["lateness"])),
        Row("13. Call recording, two channels on one schedule: frame n of one channel against "
            "frame n of the other, arrival gap p50 / p99 / max", late(apart),
            goal=f"p99 ≤ {ms(TOGETHER_GOAL, 0)}", met=apart["p99"] <= TOGETHER_GOAL),
    ]
    note = (f"Call recording: {seconds:g} s of 16 kHz WAV, one channel and two (--channels split, "
            f"a session each) streamed side by side at speed 1; client CPU {one['cpu']:.3f} s "
            f"and {two['cpu']:.3f} s; the two channels' first frames {ms(abs(first - second), 2)} "
            "apart.")
    return FigureResult("channels", rows, [note], {**results, "frames_apart": apart})


def measure(client: clients.Client, records: list) -> dict:
    audio = records[0]["bytes"] / BYTES_PER_SECOND  # each channel's, the input's length
    return {"cpu": client.cpu_seconds, "cpu_per_audio_second": client.cpu_seconds / audio,
            "drift": [drift(record) for record in records],
            "lateness": [summary(frame_lateness(record)[1]) for record in records]}


def frames_apart(one: dict, other: dict) -> np.ndarray:
    """How far apart each frame of one channel and the same frame of the other arrived, in s."""
    count = min(len(one["arrivals"]), len(other["arrivals"]))
    return np.abs(np.array(one["arrivals"][:count]) - np.array(other["arrivals"][:count]))
