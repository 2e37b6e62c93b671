"""Reconnects on real speech: words lost or repeated against an undisturbed run, and the audio sent again.

    .venv/bin/python bench/reconnect.py [--cuts 1 3 5] [--speed 3]

Real speech (the test suite's standard utterances with pauses) goes through
`asrx serve` and the test suite's TCP proxy, once undisturbed and once for
each number of cuts (a plain TCP close, the kinds taking turns with a close
code 1011 and a reset), each cut after a fixed share of the audio. Against
the undisturbed transcript, from a word alignment: words lost (there, with
no counterpart here), words added (here, with none there: a sentence printed
twice shows here) and words recognised otherwise (a new session starts the
engine's adaptation afresh, so a replayed sentence may come out a little
differently); sentences; and the audio sent again per cut (position at the
cut minus the replay point). Goal: 0 lost, 0 added.
"""

import argparse
import difflib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asrx_cli.server.app import ServerThread  # noqa: E402
from asrx_cli.server.config import Limits, ServerConfig  # noqa: E402
from tests.proxy import Fault, Proxy  # noqa: E402
from tests.utterances import STANDARD_SILENCES, layout, standard_utterances  # noqa: E402

KEY = "bench-reconnect"
ASRX = str(Path(sys.executable).with_name("asrx"))
KINDS = [("code", 1011), ("close", 1011), ("reset", 1011)]


def transcribe(url: str, path: Path, speed: float) -> list:
    result = subprocess.run([ASRX, "transcribe", "--url", url, str(path), "--json", "--no-partials",
                             "--speed", str(speed), "--retry-delay", "0.05", "--retries", "9"],
                            capture_output=True, text=True, env={"ASRX_API_KEY": KEY, "PATH": ""}, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"asrx failed ({result.returncode}): {result.stderr}")
    return [json.loads(line) for line in result.stdout.splitlines()]


def words(events) -> list:
    return " ".join(e["text"] for e in events if e["type"] == "final").split()


def compare(calm: list, cut: list):
    """Words lost (no counterpart here), added (none there) and recognised otherwise (a counterpart differs)."""
    lost = added = changed = 0
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=calm, b=cut, autojunk=False).get_opcodes():
        if op != "equal":
            changed += min(a2 - a1, b2 - b1)
            lost += max(0, (a2 - a1) - (b2 - b1))
            added += max(0, (b2 - b1) - (a2 - a1))
    return lost, added, changed


def faults(count: int, seconds: float) -> list:
    """`count` cuts, each after a share of the audio counted on its own connection."""
    step = seconds / (count + 1)
    return [Fault(step, *KINDS[n % len(KINDS)]) for n in range(count)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuts", type=int, nargs="+", default=[1, 3, 5])
    parser.add_argument("--speed", type=float, default=3.0)
    options = parser.parse_args()
    utterances = standard_utterances()
    talk = layout(utterances, STANDARD_SILENCES[:len(utterances) + 1])
    server = ServerThread(ServerConfig(port=0, api_keys=frozenset({KEY}), limits=Limits(close_wait=1.0))).start()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "talk.raw"
            path.write_bytes(talk.pcm)
            with Proxy(server.port) as proxy:
                calm_events = transcribe(proxy.url(), path, options.speed)
            calm = words(calm_events)
            for count in options.cuts:
                with Proxy(server.port, faults(count, talk.seconds)) as proxy:
                    events = transcribe(proxy.url(), path, options.speed)
                reconnects = [e for e in events if e["type"] == "reconnect"]
                finals = sum(e["type"] == "final" for e in events)
                replayed = sum(e["position"] - e["replay_from"] for e in reconnects)
                rows.append((count, len(reconnects), finals, *compare(calm, words(events)),
                             replayed / max(len(reconnects), 1)))
    finally:
        server.stop()
    sentences = sum(e["type"] == "final" for e in calm_events)
    print(f"Reconnects on {talk.seconds:.1f} s of real speech through asrx serve, --speed {options.speed:g}: "
          f"undisturbed, {sentences} sentences and {len(calm)} words")
    print()
    print("| cuts | reconnects | sentences | words lost | words added | recognised otherwise | audio sent again per cut |")
    print("|---|---|---|---|---|---|---|")
    for count, reconnects, finals, lost, added, changed, replayed in rows:
        print(f"| {count} | {reconnects} | {finals} | {lost} | {added} | {changed} | {replayed:.2f} s |")


if __name__ == "__main__":
    main()
