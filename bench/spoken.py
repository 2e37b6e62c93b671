"""Figures 9 and 12: real speech through `asrx transcribe --json`: subtitle timing, and
reconnects, also in degraded audio. The speech, its degradations, the scripted servers (late, tone
bursts) and the cutting proxy are the tests' own."""

import logging
from pathlib import Path

from bench import clients
from bench.report import FigureResult, Row, summary, within
from tests.support.bursts import PLAN, BurstListener, bursts
from tests.support.degraded import (
    CONDITIONS,
    honest_ways,
    sentence_damage,
    sentences,
    words_lost_and_added,
)
from tests.support.scripted import Script, ScriptedServer, late_script
from tests.support.tcp_proxy import Fault, Proxy
from tests.support.utterances import Layout, standard_layout

CUE_GOALS = {"start": 0.150, "end": 0.250}  # p95, seconds
CUTS, CUT_KINDS = (1, 3, 5), ("code", "close", "reset")
RECONNECT_SPEED = 3.0
RETRY = ("--no-partials", "--retry-delay", "0.05", "--retries", "9")
DEGRADED = ("noise 10 dB", "noise 0 dB", "telephone")
# Degraded runs: a cut at a third of the audio, then two in quick succession, on their connections.
QUICK_CUTS = (Fault(1.0, "reset"), Fault(2.0, "close"))


def speech_file(folder: Path) -> tuple[Layout, Path]:
    """The tests' standard utterances with their silences, and a headerless file of them."""
    speech = standard_layout()
    (folder / "utterances.raw").write_bytes(speech.pcm)
    return speech, folder / "utterances.raw"


def cue_times(events: list, seconds: float):
    """(speech-aligned cues, arrival-time cues): lists of (start, end)."""
    finals = [event for event in events if event["type"] == "final"]
    first_words = {event["sentence"]: event["offset"]  # reversed: each sentence's first partial
                   for event in reversed(events) if event["type"] == "partial"}
    aligned = [(final["start"], final["end"]) for final in finals]
    arrival = [(first_words.get(final["sentence"], final["start"]),
                first_words.get(final["sentence"] + 1, seconds)) for final in finals]
    return aligned, arrival


def errors(cues, truth) -> dict:
    """p50 / p95 of the start and end errors; None unless cues and utterances match one to one."""
    if len(cues) != len(truth):
        return None
    return {edge: summary([abs(cue[side] - true[side]) for cue, true in zip(cues, truth)])
            for side, edge in enumerate(("start", "end"))}


def subtitles(options, folder: Path) -> FigureResult:
    speech, audio = speech_file(folder)
    scripted = ScriptedServer(late_script(speech.truth, speech.texts), api_key=clients.API_KEY)
    try:
        late = clients.json_events(scripted.start().url, audio)
    finally:
        scripted.stop()
    with clients.serve() as serve:
        events = {"scripted server, 300-800 ms late": late,
                  "asrx serve": clients.json_events(serve.url, audio)}
    figures, rows = {}, []
    for server, found in events.items():
        aligned, arrival = cue_times(found, speech.seconds)
        ours, theirs = errors(aligned, speech.truth), errors(arrival, speech.truth)
        figures[server] = {"speech": ours, "arrival": theirs, "cues": len(aligned),
                           "utterances": len(speech.truth)}
        if ours is None:
            rows.append(Row(f"9. Subtitle timing, {server}", f"{len(aligned)} cues for "
                            f"{len(speech.truth)} utterances", goal="one cue per utterance",
                            met=False))
            continue
        rows += [within(f"9. Subtitle cue {edge} error p50 / p95, {server} (baseline: arrival "
                        "times)", ours[edge], theirs[edge], ("p50", "p95"), "p95", goal, digits=0)
                 for edge, goal in CUE_GOALS.items()]
    return FigureResult("subtitles", rows, [], figures)


def words(events: list[dict]) -> list[str]:
    return " ".join(e["text"] for e in events if e["type"] == "final").split()


compare = words_lost_and_added  # words lost, added and recognised otherwise, by a word alignment


def outcome(calm: list[str], events: list[dict]) -> dict:
    """A run with cuts against the undisturbed words `calm`."""
    cuts = [e for e in events if e["type"] == "reconnect"]
    lost, added, changed = compare(calm, words(events))
    replayed = sum(e["position"] - e["replay_from"] for e in cuts) / max(len(cuts), 1)
    return {"reconnects": len(cuts), "sentences": sum(e["type"] == "final" for e in events),
            "lost": lost, "added": added, "changed": changed, "replayed_per_cut": replayed}


def reconnects(options, folder: Path) -> FigureResult:
    speech, audio = speech_file(folder)
    events = {}
    with clients.serve("--close-wait", "1", "--quiet") as server:
        for count in (0, *CUTS):
            # Each cut after an equal share of the audio, counted on its own connection.
            step = speech.seconds / (count + 1)
            faults = [Fault(step, CUT_KINDS[n % len(CUT_KINDS)], 1011) for n in range(count)]
            with Proxy(server.port, faults) as proxy:
                events[count] = clients.json_events(proxy.url(), audio, *RETRY,
                                                    speed=RECONNECT_SPEED)
        calm = sentences(events[0])
        results = {count: judged(server, speech.pcm, calm, found)  # 0: undisturbed
                   for count, found in events.items()}
        degraded = {name: degraded_run(server, CONDITIONS[name](speech.pcm), folder)
                    for name in DEGRADED}
    degraded["tone bursts"] = burst_run(folder)
    labelled = {f"{count} cuts": results[count] for count in CUTS}
    labelled.update({f"3 cuts, {name}": found for name, found in degraded.items()})
    rows = [Row(f"12. Reconnects, {label}: reconnects; sentences; words lost / repeated; "
                "recognised otherwise; audio sent again per cut",
                "{reconnects}; {sentences}; {lost} / {added}; {changed}; {replayed_per_cut:.2f} s"
                .format(**found), goal="0 lost, 0 repeated",
                met=found["lost"] == found["added"] == 0) for label, found in labelled.items()]
    total = len(words(events[0]))
    note = (f"Reconnects: {speech.seconds:.1f} s of real speech through `asrx serve` and a cutting "
            f"TCP proxy, --speed {RECONNECT_SPEED:g}; undisturbed, {results[0]['sentences']} "
            f"sentences and {total} words. Degraded: the same speech under white noise, "
            "through a telephone line; tone bursts to a scripted server that names each after how "
            "much of it it heard (a burst named otherwise counts as lost).")
    return FigureResult("reconnect", rows, [note], {"words": total, "runs": results,
                                                    "degraded": degraded})


def cut_run(port: int, audio: Path, seconds: float) -> list[dict]:
    faults: list = [Fault(seconds / 3, "code", 1011), *QUICK_CUTS]
    with Proxy(port, faults) as proxy:
        return clients.json_events(proxy.url(), audio, *RETRY, speed=RECONNECT_SPEED)


def degraded_run(server, pcm: bytes, folder: Path) -> dict:
    """Speech in degraded audio, undisturbed and with 3 cuts (`judged`)."""
    audio = folder / "degraded.raw"
    audio.write_bytes(pcm)
    calm = sentences(clients.json_events(server.url, audio, *RETRY, speed=RECONNECT_SPEED))
    return judged(server, pcm, calm, cut_run(server.port, audio, len(pcm) / 32000))


def judged(server, pcm: bytes, calm: list[str], events: list[dict]) -> dict:
    """A run with cuts against the undisturbed run's sentences `calm`: words lost and added
    sentence by sentence, against those and the engine's words for a sentence in a session that
    starts where a replay started (a new session decodes afresh: "recognised otherwise")."""
    ways = honest_ways(server.url, clients.API_KEY, pcm, calm, events)
    lost, added = sentence_damage(ways, sentences(events))
    return dict(outcome(" ".join(calm).split(), events), lost=lost, added=added)


def burst_run(folder: Path) -> dict:
    """Tone bursts, which the speech detector does not hear, against their names heard in full."""
    pcm, names = bursts(PLAN)
    audio = folder / "bursts.raw"
    audio.write_bytes(pcm)
    logging.getLogger("websockets.server").setLevel(logging.CRITICAL)  # each cut: a traceback
    scripted = ScriptedServer(Script(listener=BurstListener), api_key=clients.API_KEY).start()
    try:
        events = cut_run(int(scripted.port or 0), audio, len(pcm) / 32000)
    finally:
        scripted.stop()
    found = outcome(" ".join(names).split(), events)
    # Each burst's name as one word: a late replay changes the name.
    lost, added, changed = compare(names, sentences(events))
    return dict(found, lost=lost + changed, added=added)
