"""Figure 8: `asrx serve` with PocketSphinx: CPU per stream, and how many real-time streams it sustains.

The server runs as `asrx serve --port 0` with its default workers (one per
core). Its CPU is the user + system time of the server process and every
process under it (the engine workers), from /proc, over a trial. A trial
keeps N streams of real speech going at real time (bench/loadgen.py); the
machine sustains N when every session ends cleanly, the load generator keeps
its schedule, and the time from end of speech to final text stays within
1 s at p95. N is searched from a guess made from one stream's CPU.
"""

import os
import subprocess
import threading
from typing import Dict, List, Optional

import loadgen
import machine
import processes
import report
import speech
import stats
from report import FigureResult, Row

LATENCY_GOAL = 1.0
GENERATOR_SLACK = 0.1  # seconds the load generator may fall behind before a trial says nothing
TRAILING_SILENCE = 1.5
MOST_STREAMS = 64
MOST_TRIALS = 6
LISTENING = "asrx serve: listening on "
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def unavailable() -> Optional[str]:
    """Why figure 8 cannot run here, or None."""
    if not speech.recordings():
        return f"no speech recordings in {speech.TESTDATA} (Debian package pocketsphinx-testdata)"
    try:
        result = subprocess.run([processes.asrx_executable(), "serve", "--help"], capture_output=True,
                                text=True, timeout=60, env=processes.client_environment())
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`asrx serve --help` failed: {exc}"
    if result.returncode != 0:
        return f"`asrx serve` is not available: {(result.stderr or result.stdout).strip()[:200]}"
    return None


# --- the server and its CPU -------------------------------------------------------------


def _stat_fields(pid: int) -> Optional[List[str]]:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def process_tree(root: int) -> List[int]:
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def tree_cpu_seconds(root: int) -> float:
    """User + system seconds of a process and all its descendants alive now."""
    total = 0
    for pid in process_tree(root):
        fields = _stat_fields(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


class ServeProcess:
    def __init__(self):
        command = [processes.asrx_executable(), "serve", "--port", "0", "--api-key", processes.API_KEY,
                   "--max-sessions", "1000", "--quiet"]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True, env=processes.client_environment())
        self.url = None
        self.stderr: List[str] = []
        self._listening = threading.Event()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        if not self._listening.wait(120) or self.url is None:
            self.stop()
            raise RuntimeError("asrx serve did not start: " + "".join(self.stderr)[-500:])

    def _read_stderr(self):
        for line in self.process.stderr:  # drained all along: a full pipe would stall the server
            self.stderr.append(line)
            if line.startswith(LISTENING) and self.url is None:
                self.url = line[len(LISTENING):].strip()
                self._listening.set()
        self._listening.set()

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- trials -----------------------------------------------------------------------------


def trial(server: ServeProcess, utterances, streams: int, seconds: float) -> dict:
    cpu_before = server.cpu_seconds()
    sessions = loadgen.run_streams(server.url, processes.API_KEY, utterances, streams, seconds)
    cpu = server.cpu_seconds() - cpu_before
    latencies = [s.latency for s in sessions if s.latency is not None]
    errors = [f"{s.utterance}: {s.error}" for s in sessions if s.error]
    audio = sum(s.audio_seconds for s in sessions)
    lateness = max((s.send_lateness for s in sessions), default=0.0)
    result = {
        "streams": streams, "sessions": len(sessions), "audio_seconds": audio, "cpu_seconds": cpu,
        "cpu_per_audio_second": cpu / audio if audio else float("nan"),
        "latency": stats.summary(latencies), "errors": errors[:5], "error_count": len(errors),
        "generator_lateness": lateness, "texts": sorted({f"{s.utterance}: {s.text}" for s in sessions})[:8],
        "sessions_seen": [(s.utterance, s.latency) for s in sessions],
    }
    result["sustained"] = (not errors and lateness <= GENERATOR_SLACK and len(latencies) >= streams
                           and result["latency"]["p95"] <= LATENCY_GOAL)
    return result


def search(measure, first_guess: int) -> int:
    """The largest N that `measure(N)` says is sustained, by doubling then bisection."""
    best, worst_failure, n, trials = 0, None, max(1, min(first_guess, MOST_STREAMS)), 0
    while trials < MOST_TRIALS:
        trials += 1
        if measure(n):
            best = max(best, n)
        else:
            worst_failure = n if worst_failure is None else min(worst_failure, n)
        if worst_failure is None:
            if n >= MOST_STREAMS:
                break
            n = min(MOST_STREAMS, n * 2)
        elif worst_failure - best <= 1:
            break
        else:
            n = (best + worst_failure) // 2 if best else max(1, worst_failure // 2)
    return best


def run(trial_seconds: float) -> FigureResult:
    utterances = speech.load(TRAILING_SILENCE)
    server = ServeProcess()
    trials: Dict[int, dict] = {}
    try:
        def measure(streams: int) -> bool:
            if streams not in trials:
                trials[streams] = trial(server, utterances, streams, trial_seconds)
            return trials[streams]["sustained"]

        measure(1)
        guess = int(machine.usable_cores() / max(trials[1]["cpu_per_audio_second"], 0.001))
        capacity = search(measure, max(1, guess)) if trials[1]["sustained"] else 0
    finally:
        server.stop()
    results = {"trials": {str(n): t for n, t in sorted(trials.items())}, "capacity": capacity,
               "trial_seconds": trial_seconds, "guess": guess,
               "utterances": {u.name: {"seconds": u.seconds, "speech_end": u.speech_end} for u in utterances}}
    return FigureResult("serve", rows(results), notes(results), results)


def rows(results: dict) -> List[Row]:
    one = results["trials"]["1"]
    capacity = results["capacity"]
    at_capacity = results["trials"].get(str(capacity))
    shown = f"{capacity}" + (f" (p95 {report.ms(at_capacity['latency']['p95'], 0)})" if at_capacity else "")
    return [
        Row("8. `asrx serve` (PocketSphinx): server CPU s per audio s, one stream",
            f"{one['cpu_per_audio_second']:.3f}"),
        Row("8. `asrx serve`: real-time streams sustained, end of speech → final text p95 ≤ 1 s",
            shown, goal="p95 ≤ 1 s", met=capacity >= 1, why=why_none(one)),
    ]


def why_none(one: dict) -> str:
    """Why not even one stream was sustained, from the one-stream trial."""
    latency = one["latency"]
    if one["error_count"]:
        return f"one stream already failed: {'; '.join(one['errors'][:2])}"
    return (f"with one stream alone, end of speech → final text took p50 {report.ms(latency['p50'], 0)}, "
            f"p95 {report.ms(latency['p95'], 0)} (max {report.ms(latency['max'], 0)}): with no other load, "
            f"that is the server's own time per utterance (its endpointer's wait for silence and the "
            f"final decoding), not queueing")


def notes(results: dict) -> List[str]:
    lines = []
    for n, t in results["trials"].items():
        latency = t["latency"]
        lines.append(f"{n} stream{'' if n == '1' else 's'}: {'sustained' if t['sustained'] else 'not sustained'}, "
                     f"{t['sessions']} sessions, latency p50 {report.ms(latency['p50'], 0)} / p95 "
                     f"{report.ms(latency['p95'], 0)}, server CPU {t['cpu_per_audio_second']:.3f} s per audio s, "
                     f"{t['error_count']} errors, load generator at most "
                     f"{report.ms(t['generator_lateness'], 0)} behind")
    return [f"`asrx serve`: no baseline (there is no other server to compare with). Trials of "
            f"{results['trial_seconds']:g} s, one session per utterance (Debian's pocketsphinx-testdata "
            f"recordings, {TRAILING_SILENCE:g} s of silence appended, end of speech from energy); first guess "
            f"{results['guess']} streams from one stream's CPU. " + "; ".join(lines) + "."]
