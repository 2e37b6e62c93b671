"""Figure 9: subtitle timing, cue start and end error against the true speech, beside arrival times.

The speech and the late scripted server are the tests' own (tests/utterances.py, tests/test_timing.py)."""

from pathlib import Path

import numpy as np
import soundfile

import clients
import report
from asrx_cli.server.process import ServeProcess
from asrx_cli.wire import SAMPLE_RATE
from report import FigureResult, Row
from tests.fakeserver import ScriptedServer
from tests.test_timing import late_script
from tests.utterances import STANDARD_SILENCES, Layout, layout, standard_utterances

GOALS = {"start": 0.150, "end": 0.250}  # p95, seconds


def speech_file(folder: Path) -> Layout:
    """The tests' standard utterances with their silences, written to folder/utterances.wav."""
    utterances = standard_utterances()
    speech = layout(utterances, STANDARD_SILENCES[:len(utterances) + 1])
    soundfile.write(folder / "utterances.wav", np.frombuffer(speech.pcm, "<i2"), SAMPLE_RATE, subtype="PCM_16")
    return speech


def cue_times(events: list, seconds: float):
    """(speech-aligned cues, arrival-time cues): lists of (start, end)."""
    finals = [event for event in events if event["type"] == "final"]
    first_words = {}
    for event in events:
        if event["type"] == "partial":
            first_words.setdefault(event["sentence"], event["offset"])
    aligned = [(final["start"], final["end"]) for final in finals]
    arrival = [(first_words.get(final["sentence"], final["start"]), first_words.get(final["sentence"] + 1, seconds))
               for final in finals]
    return aligned, arrival


def errors(cues, truth) -> dict:
    """p50 / p95 of the start and end errors, or None when the cues do not match the utterances one to one."""
    if len(cues) != len(truth):
        return None
    return {"start": report.summary([abs(start - onset) for (start, _), (onset, _) in zip(cues, truth)]),
            "end": report.summary([abs(end - offset) for (_, end), (_, offset) in zip(cues, truth)])}


def run(folder: Path) -> FigureResult:
    speech, audio = speech_file(folder), str(folder / "utterances.wav")
    events = {}
    scripted = ScriptedServer(late_script(speech.truth, speech.texts), api_key=clients.API_KEY).start()
    try:
        events["scripted server, 300-800 ms late"] = clients.json_events(scripted.url, audio)
    finally:
        scripted.stop()
    with ServeProcess("--api-key", clients.API_KEY, env=clients.client_environment()) as serve:
        events["asrx serve"] = clients.json_events(serve.url, audio)
    figures, rows = {}, []
    for server, found in events.items():
        aligned, arrival = cue_times(found, speech.seconds)
        speech_errors, arrival_errors = errors(aligned, speech.truth), errors(arrival, speech.truth)
        figures[server] = {"speech": speech_errors, "arrival": arrival_errors, "cues": len(aligned),
                           "utterances": len(speech.truth)}
        if speech_errors is None:
            rows.append(Row(f"9. Subtitle timing, {server}", f"{len(aligned)} cues for {len(speech.truth)} "
                            "utterances", goal="one cue per utterance", met=False))
            continue
        for edge, goal in GOALS.items():
            ours, theirs = speech_errors[edge], arrival_errors[edge]
            rows.append(Row(f"9. Subtitle cue {edge} error p50 / p95, {server} (baseline: arrival times)",
                            report.ms_list(ours, "p50", "p95", digits=0),
                            report.ms_list(theirs, "p50", "p95", digits=0),
                            report.ratio(ours["p95"], theirs["p95"], "p95"), f"p95 ≤ {goal * 1000:.0f} ms",
                            ours["p95"] <= goal))
    return FigureResult("subtitles", rows, [], figures)
