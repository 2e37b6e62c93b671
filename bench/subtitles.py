"""Subtitle timing: cue start and end error against the true speech, speech-aligned beside arrival times.

    .venv/bin/python bench/subtitles.py [--speed 1]

Real utterances with known silences between them (tests/utterances.py) go
through `asrx transcribe --json` at real time, against a scripted server that
answers 300-800 ms late and against `asrx serve`. Each final's start and end
(placed on the speech) and the arrival-time estimates the same run yields
(the audio sent when its first words and its close arrived) are compared with
the true onsets and offsets. `measure()` returns the figures for a report.
"""

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from asrx_cli.server.process import ServeProcess, asrx_command  # noqa: E402
from tests.fakeserver import ScriptedServer  # noqa: E402
from tests.test_timing import late_script  # noqa: E402
from tests.utterances import STANDARD_SILENCES, layout, standard_utterances  # noqa: E402

KEY = "bench-subtitles-key"


def run_asrx(url: str, audio: Path, speed: float) -> list:
    result = subprocess.run(asrx_command() + ["transcribe", "--url", url, "--json", "--speed", str(speed), str(audio)],
                            capture_output=True, text=True, env={"ASRX_API_KEY": KEY, "PATH": "/usr/bin:/bin"},
                            timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"asrx transcribe failed: {result.stderr.strip()}")
    return [json.loads(line) for line in result.stdout.splitlines()]


def cue_times(events: list, seconds: float):
    """(speech-aligned cues, arrival-time cues): lists of (start, end)."""
    finals = [e for e in events if e["type"] == "final"]
    first_words = {}
    for event in events:
        if event["type"] == "partial":
            first_words.setdefault(event["sentence"], event["offset"])
    aligned = [(f["start"], f["end"]) for f in finals]
    arrival = [(first_words.get(f["sentence"], f["start"]), first_words.get(f["sentence"] + 1, seconds))
               for f in finals]
    return aligned, arrival


def quantile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def errors(cues, truth):
    if len(cues) != len(truth):
        return None
    starts = [abs(s - onset) for (s, _), (onset, _) in zip(cues, truth)]
    ends = [abs(e - offset) for (_, e), (_, offset) in zip(cues, truth)]
    return {"start_p50": quantile(starts, 0.5), "start_p95": quantile(starts, 0.95),
            "end_p50": quantile(ends, 0.5), "end_p95": quantile(ends, 0.95)}


def measure(speed: float = 1.0) -> dict:
    import numpy as np
    import soundfile

    utterances = standard_utterances()
    speech = layout(utterances, STANDARD_SILENCES[:len(utterances) + 1])
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        audio = Path(folder) / "utterances.wav"
        soundfile.write(str(audio), np.frombuffer(speech.pcm, "<i2"), 16000, subtype="PCM_16")
        scripted = ScriptedServer(late_script(speech.truth, speech.texts), api_key=KEY).start()
        try:
            results["scripted server, 300-800 ms late"] = run_asrx(scripted.url, audio, speed)
        finally:
            scripted.stop()
        with ServeProcess("--api-key", KEY) as serve:
            results["asrx serve"] = run_asrx(serve.url, audio, speed)
    figures = {}
    for server, events in results.items():
        aligned, arrival = cue_times(events, speech.seconds)
        figures[server] = {"speech": errors(aligned, speech.truth), "arrival": errors(arrival, speech.truth),
                           "cues": len(aligned), "utterances": len(speech.truth)}
    return figures


def table(figures: dict) -> str:
    lines = ["| server | times | start error p50 / p95 | end error p50 / p95 |", "|---|---|---|---|"]
    for server, figure in figures.items():
        for kind in ("speech", "arrival"):
            found = figure[kind]
            if found is None:
                lines.append(f"| {server} | {kind} | {figure['cues']} cues for {figure['utterances']} utterances | |")
                continue
            lines.append(f"| {server} | {kind} | {found['start_p50'] * 1000:.0f} / {found['start_p95'] * 1000:.0f} ms "
                         f"| {found['end_p50'] * 1000:.0f} / {found['end_p95'] * 1000:.0f} ms |")
    return "\n".join(lines)


GOAL_START, GOAL_END = 0.150, 0.250  # p95, seconds


def run(speed: float = 1.0):
    """The figure as rows of bench/run.py's table: speech-aligned cues beside arrival-time ones."""
    import report

    figures = measure(speed)
    rows = []
    for server, figure in figures.items():
        speech, arrival = figure["speech"], figure["arrival"]
        if speech is None or arrival is None:
            rows.append(report.Row(f"9. subtitle timing, {server}",
                                   f"{figure['cues']} cues for {figure['utterances']} utterances", met=False))
            continue
        for edge, goal in (("start", GOAL_START), ("end", GOAL_END)):
            rows.append(report.Row(
                f"9. cue {edge} error p50 / p95, {server}",
                f"{speech[edge + '_p50'] * 1000:.0f} / {speech[edge + '_p95'] * 1000:.0f} ms",
                baseline=f"{arrival[edge + '_p50'] * 1000:.0f} / {arrival[edge + '_p95'] * 1000:.0f} ms (arrival times)",
                ratio=f"{arrival[edge + '_p95'] / max(speech[edge + '_p95'], 0.001):.0f}x smaller",
                goal=f"p95 <= {goal * 1000:.0f} ms", met=speech[edge + "_p95"] <= goal))
    return report.FigureResult("subtitles", rows, [], figures)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=1.0, help="audio sent at X times real time [1]")
    print(table(measure(parser.parse_args().speed)))


if __name__ == "__main__":
    main()
