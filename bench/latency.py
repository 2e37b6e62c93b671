"""Figure 5: result latency, from the server sending a message to the line on the client's stdout.

The sink plays a script while the client streams at real time: a sentence
every so often, each growing through partial `Sentence` messages, each made
final by the next one's `NewSentence`. The sink stamps each message just
before sending it; the bench reads the client's stdout through a pipe and
stamps each line as it arrives. Both stamps are CLOCK_MONOTONIC.
"""

from pathlib import Path
from typing import Dict, List

import inputs
import processes
import report
import stats
from report import FigureResult, Row

P99_GOAL = 0.002
PARTIALS = 2


def line_latencies(record: dict, lines) -> List[float]:
    """For each sentence made final by a NewSentence: its line's arrival minus that message's sending."""
    last_text: Dict[int, str] = {}
    opened: Dict[int, float] = {}
    for index, _state, text, sent in record["sent"]:
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


def run(workdir: Path, sentences: int, every: float) -> FigureResult:
    seconds = (sentences + 1) * every + 1.0
    audio = str(inputs.write_raw(workdir / "latency.raw", seconds))
    results = {}
    sink_options = ("--sentences", str(sentences), "--every", str(every), "--partials", str(PARTIALS))
    with processes.SinkProcess(*sink_options) as sink:
        commands = {"asrx": processes.asrx_command(audio, sink.url("asrx"), 1),
                    "baseline": processes.baseline_command(audio, sink.url("baseline"))}
        for client, command in commands.items():  # one at a time: each has the machine to itself
            run_ = processes.Client(command).finish(seconds * 1.5 + 60)
            latencies = line_latencies(sink.record(client), run_.lines)
            results[client] = {"summary": stats.summary(latencies), "latencies": latencies}
    results["script"] = {"sentences": sentences, "every": every, "partials": PARTIALS}
    return FigureResult("latency", rows(results), notes(results), results)


def rows(results: dict) -> List[Row]:
    a, b = results["asrx"]["summary"], results["baseline"]["summary"]
    return [Row("5. Result latency, server send → line on the pipe, p50 / p99",
                report.ms_triple([a["p50"], a["p99"]]), report.ms_triple([b["p50"], b["p99"]]),
                report.ratio(a["p99"], b["p99"]) + " (p99)", "p99 ≤ 2 ms", a["p99"] <= P99_GOAL)]


def notes(results: dict) -> List[str]:
    script, a = results["script"], results["asrx"]["summary"]
    return [f"Result latency: {a['n']} sentences per client, one every {script['every'] * 1000:.0f} ms with "
            f"{script['partials']} partial messages each, while the client streams at speed 1; "
            f"max {report.ms(a['max'], 2)} for asrx, {report.ms(results['baseline']['summary']['max'], 2)} "
            f"for the baseline."]
