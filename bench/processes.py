"""Processes under measurement: the sink server, and clients with their clocks.

Every stamp is time.monotonic() (CLOCK_MONOTONIC, system-wide on Linux), so
the bench, the sink and `asrx serve` stamps can be compared directly.
"""

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

BENCH_DIR = Path(__file__).resolve().parent
API_KEY = "bench-key"
# A source tree whose asrx_cli the clients import instead of the installed one
# (run.py --client-source): measures a change before it is applied.
client_source: Optional[str] = None


def asrx_executable() -> str:
    """The `asrx` console script installed beside the running Python."""
    script = Path(sys.executable).with_name("asrx")
    if not script.exists():
        raise SystemExit(f"bench: {script} not found; run `make bench` (it installs asrx into .venv)")
    return str(script)


def client_environment() -> Dict[str, str]:
    """The user's environment without asrx settings or config file, plus the bench's key."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("ASRX_")}
    environment["ASRX_API_KEY"] = API_KEY
    environment["XDG_CONFIG_HOME"] = tempfile.gettempdir() + "/asrx-bench-no-config"
    if client_source:
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [client_source, environment.get("PYTHONPATH")]))
    return environment


# --- the sink -------------------------------------------------------------------------


class SinkProcess:
    """bench/sink.py in a subprocess; records arrive as JSON lines, by tag."""

    def __init__(self, *options: str):
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH_DIR / "sink.py"), *options],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        first = self.process.stdout.readline().split()
        if len(first) != 2 or first[0] != "listening":
            self.stop()
            raise RuntimeError(f"the sink did not start: {first}")
        self.port = int(first[1])
        self._records: "queue.Queue[dict]" = queue.Queue()
        self._held: Dict[str, dict] = {}
        threading.Thread(target=self._read_records, daemon=True).start()

    def url(self, tag: str) -> str:
        return f"ws://127.0.0.1:{self.port}/asrx?tag={tag}"

    def _read_records(self):
        for line in self.process.stdout:
            self._records.put(json.loads(line))

    def record(self, tag: str, timeout: float = 30.0) -> dict:
        """The record of the connection tagged `tag`, once it has ended."""
        deadline = time.monotonic() + timeout
        while tag not in self._held:
            try:
                record = self._records.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                raise RuntimeError(f"the sink reported no connection tagged {tag!r} in {timeout:g} s") from None
            self._held[record["tag"]] = record
        return self._held.pop(tag)

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.terminate()
            self.process.wait(10)

    def __enter__(self) -> "SinkProcess":
        return self

    def __exit__(self, *exc_info):
        self.stop()


# --- clients --------------------------------------------------------------------------


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> Optional[float]:
    """User + system seconds of `pid`, its ended threads included (/proc/PID/stat, in clock ticks)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class ClientRun:
    """One client process: when it started and ended, what it printed when, what it cost."""

    command: List[str]
    started: float = 0.0
    exited: Optional[float] = None
    status: Optional[int] = None
    cpu_seconds: Optional[float] = None  # user + system, from wait4
    max_rss_mb: Optional[float] = None
    lines: List[Tuple[float, str]] = field(default_factory=list)  # (arrival stamp, line)
    # (stamp, CPU seconds of the client, CPU seconds of the other watched processes)
    cpu_samples: List[Tuple[float, float, float]] = field(default_factory=list)
    stderr: str = ""


class Client:
    """Starts a client and watches it from threads that stamp each event as it happens."""

    def __init__(self, command: List[str], sample_cpu_every: Optional[float] = None,
                 also_watch: Tuple[int, ...] = ()):
        self.run = ClientRun(command)
        self.also_watch = also_watch
        self._stderr = tempfile.TemporaryFile()
        self.run.started = time.monotonic()
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._stderr,
                                        stdin=subprocess.DEVNULL, env=client_environment())
        self._done = threading.Event()
        self._threads = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._wait, daemon=True)]
        if sample_cpu_every:
            self._threads.append(threading.Thread(target=self._sample_cpu, args=(sample_cpu_every,), daemon=True))
        for thread in self._threads:
            thread.start()

    def _read_stdout(self):
        fd, partial = self.process.stdout.fileno(), b""
        while True:
            data = os.read(fd, 65536)
            now = time.monotonic()
            if not data:
                return
            *complete, partial = (partial + data).split(b"\n")
            self.run.lines.extend((now, line.decode("utf-8", "replace")) for line in complete)

    def _wait(self):
        # wait4 reaps the child and gives its own rusage (CPU, peak RSS) in one call.
        _, status, usage = os.wait4(self.process.pid, 0)
        self.run.exited = time.monotonic()
        self.process.returncode = os.waitstatus_to_exitcode(status)  # tells Popen it is reaped
        self.run.status = self.process.returncode
        self.run.cpu_seconds = usage.ru_utime + usage.ru_stime
        self.run.max_rss_mb = usage.ru_maxrss / 1024  # KiB on Linux
        self._done.set()

    def _sample_cpu(self, every: float):
        last = (0.0, 0.0)
        while not self._done.wait(every):
            cpu = process_cpu_seconds(self.process.pid)
            others = sum(process_cpu_seconds(pid) or 0.0 for pid in self.also_watch)
            if cpu is not None:
                # A process that has just ended may read as zero: CPU time only grows.
                last = (max(cpu, last[0]), max(others, last[1]))
                self.run.cpu_samples.append((time.monotonic(), *last))

    def finish(self, timeout: float) -> ClientRun:
        if not self._done.wait(timeout):
            self.process.kill()
            self._done.wait(10)
            raise RuntimeError(f"client did not finish in {timeout:.0f} s: {' '.join(self.run.command)}")
        for thread in self._threads:
            thread.join(10)
        self._stderr.seek(0)
        self.run.stderr = self._stderr.read().decode("utf-8", "replace")
        self._stderr.close()
        self.process.stdout.close()
        if self.run.status != 0:
            raise RuntimeError(f"client failed with status {self.run.status}: "
                               f"{' '.join(self.run.command)}\n{self.run.stderr}")
        return self.run


def cpu_between(samples: List[Tuple[float, float, float]], start: float, end: float) -> Tuple[float, float]:
    """CPU seconds (client, watched others) spent between two stamps, interpolated from samples."""
    def at(stamp: float, index: int) -> float:
        before = [s for s in samples if s[0] <= stamp] or samples[:1]
        after = [s for s in samples if s[0] >= stamp] or samples[-1:]
        (t0, *v0), (t1, *v1) = before[-1], after[0]
        if t1 == t0:
            return v0[index]
        return v0[index] + (v1[index] - v0[index]) * (stamp - t0) / (t1 - t0)

    return at(end, 0) - at(start, 0), at(end, 1) - at(start, 1)


def asrx_command(audio: str, url: str, speed: float, *extra: str) -> List[str]:
    return [asrx_executable(), "transcribe", audio, "--url", url, "--speed", f"{speed:g}", "-q", *extra]


def baseline_command(audio: str, url: str, sleep: bool = True) -> List[str]:
    command = [sys.executable, str(BENCH_DIR / "baseline.py"), audio, "--url", url]
    return command if sleep else command + ["--no-sleep"]
