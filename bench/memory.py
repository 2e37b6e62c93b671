"""Figure 4: peak RSS streaming a short and a very long input, unpaced.

Both inputs are 16 kHz mono WAV files generated for the run and deleted
after it. asrx reads them through libsndfile; the baseline sends the file's
bytes as they are (a WAV header is 44 bytes of it), which is what the sample
code does with any file. The peak is the child's own ru_maxrss, taken by
bench/launch.py.
"""

import json
import sys
from pathlib import Path
from typing import Dict, List

import inputs
import processes
import report
from processes import BENCH_DIR
from report import FigureResult, Row

RATIO_GOAL = 1.1
RSS_GOAL_MB = 100


def peak_rss(command: List[str], result_path: Path, timeout: float) -> Dict[str, float]:
    launcher = [sys.executable, str(BENCH_DIR / "launch.py"), str(result_path)]
    processes.Client(launcher + command).finish(timeout)
    result = json.loads(result_path.read_text())
    return {"max_rss_mb": result["max_rss_kib"] / 1024, "floor_mb": result["floor_kib"] / 1024,
            "cpu_seconds": result["cpu_seconds"]}


def run(workdir: Path, short_minutes: float, long_hours: float) -> FigureResult:
    lengths = {"short": short_minutes * 60, "long": long_hours * 3600}
    results = {}
    with processes.SinkProcess() as sink:
        for length, seconds in lengths.items():
            audio = inputs.write_sound_file(workdir / f"memory-{length}.wav", seconds)
            timeout = 120 + seconds / 20
            commands = {"asrx": processes.asrx_command(str(audio), sink.url(f"asrx-{length}"), 0),
                        "baseline": processes.baseline_command(str(audio), sink.url(f"baseline-{length}"),
                                                               sleep=False)}
            for client, command in commands.items():
                results[f"{client}-{length}"] = peak_rss(command, workdir / "rusage.json", timeout)
                results[f"{client}-{length}"]["audio_bytes"] = sink.record(f"{client}-{length}")["bytes"]
            audio.unlink()
    results["lengths"] = lengths
    return FigureResult("memory", rows(results), notes(results), results)


def _length(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"


def rows(results: dict) -> List[Row]:
    short, long = (_length(results["lengths"][name]) for name in ("short", "long"))

    def rss(key):
        return results[key]["max_rss_mb"]

    growth = {client: rss(f"{client}-long") / rss(f"{client}-short") for client in ("asrx", "baseline")}
    return [
        Row(f"4. Peak RSS streaming {short} (speed 0)", f"{rss('asrx-short'):.1f} MB",
            f"{rss('baseline-short'):.1f} MB", report.ratio(rss("asrx-short"), rss("baseline-short")),
            "< 100 MB", rss("asrx-short") < RSS_GOAL_MB),
        Row(f"4. Peak RSS streaming {long} (speed 0)", f"{rss('asrx-long'):.1f} MB",
            f"{rss('baseline-long'):.1f} MB", report.ratio(rss("asrx-long"), rss("baseline-long")),
            "< 100 MB", rss("asrx-long") < RSS_GOAL_MB),
        Row(f"4. Peak RSS, {long} ÷ {short}", f"{growth['asrx']:.3f}", f"{growth['baseline']:.3f}",
            report.ratio(growth["asrx"], growth["baseline"]), "≤ 1.1", growth["asrx"] <= RATIO_GOAL),
    ]


def notes(results: dict) -> List[str]:
    floor = max(value["floor_mb"] for key, value in results.items() if key != "lengths")
    sent = results["asrx-long"]["audio_bytes"] / 32000 / 3600
    return [f"Memory: ru_maxrss of the client process itself (the launcher that forks it was "
            f"{floor:.1f} MB, the lowest reading possible); asrx sent {sent:.2f} h of audio from the long file."]
