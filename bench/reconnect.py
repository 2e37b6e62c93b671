"""Figure 12: reconnects on real speech: words lost or repeated against an undisturbed run, and the audio sent
again (bench/README.md says how it is measured)."""

import difflib
from pathlib import Path
from typing import List

import clients
from asrx_cli.server.process import ServeProcess
from report import FigureResult, Row
from subtitles import speech_file
from tests.proxy import Fault, Proxy

KINDS = [("code", 1011), ("close", 1011), ("reset", 1011)]
RETRY = ("--no-partials", "--retry-delay", "0.05", "--retries", "9")


def words(events: List[dict]) -> List[str]:
    return " ".join(e["text"] for e in events if e["type"] == "final").split()


def compare(calm: List[str], cut: List[str]):
    """Words lost (no counterpart here), added (none there) and recognised otherwise (a counterpart differs)."""
    lost = added = changed = 0
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=calm, b=cut, autojunk=False).get_opcodes():
        if op != "equal":
            changed += min(a2 - a1, b2 - b1)
            lost += max(0, (a2 - a1) - (b2 - b1))
            added += max(0, (b2 - b1) - (a2 - a1))
    return lost, added, changed


def faults(count: int, seconds: float) -> List[Fault]:
    """`count` cuts, each after a share of the audio counted on its own connection."""
    step = seconds / (count + 1)
    return [Fault(step, *KINDS[n % len(KINDS)]) for n in range(count)]


def run(folder: Path, cuts=(1, 3, 5), speed: float = 3.0) -> FigureResult:
    speech, audio = speech_file(folder), str(folder / "utterances.wav")
    results = {}
    with ServeProcess("--api-key", clients.API_KEY, "--close-wait", "1", "--quiet",
                      env=clients.client_environment()) as server:
        for count in (0, *cuts):
            with Proxy(server.port, faults(count, speech.seconds)) as proxy:
                results[count] = clients.json_events(proxy.url(), audio, *RETRY, speed=speed)
    calm, rows, raw = words(results[0]), [], {}
    for count in cuts:
        events = results[count]
        reconnects = [e for e in events if e["type"] == "reconnect"]
        lost, added, changed = compare(calm, words(events))
        replayed = sum(e["position"] - e["replay_from"] for e in reconnects) / max(len(reconnects), 1)
        raw[count] = {"reconnects": len(reconnects), "sentences": sum(e["type"] == "final" for e in events),
                      "lost": lost, "added": added, "changed": changed, "replayed_per_cut": replayed}
        rows.append(Row(f"12. Reconnects, {count} cuts: reconnects; sentences; words lost / added; recognised "
                        "otherwise; audio sent again per cut", f"{len(reconnects)}; {raw[count]['sentences']}; "
                        f"{lost} / {added}; {changed}; {replayed:.2f} s", goal="0 lost, 0 added",
                        met=lost == added == 0))
    sentences = sum(e["type"] == "final" for e in results[0])
    note = (f"Reconnects: {speech.seconds:.1f} s of real speech through `asrx serve` and a cutting TCP proxy, "
            f"--speed {speed:g}; undisturbed, {sentences} sentences and {len(calm)} words.")
    return FigureResult("reconnect", rows, [note], {"undisturbed": {"sentences": sentences, "words": len(calm)},
                                                    "cuts": raw})
