"""The processes under measurement: the sink, `asrx serve`, and clients watched by threads that
stamp their events (time.monotonic)."""

import collections
import json
import multiprocessing
import os
import queue
import select
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from asrx_cli.server.process import ServeProcess, asrx_command

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # speech, servers and proxies from the tests' helpers
import sink  # noqa: E402  (it takes its frames from the tests' helpers)

API_KEY = "bench-key"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# A sink is spawned: a fresh child of the bench (its CPU is the bench's, not other processes'),
# with none of the bench's threads.
PROCESSES = multiprocessing.get_context("spawn")


def client_environment() -> dict[str, str]:
    """The user's environment without asrx settings or config file, plus the bench's key."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ASRX_")}
    no_config = tempfile.gettempdir() + "/asrx-bench-no-config"
    return dict(environment, ASRX_API_KEY=API_KEY, XDG_CONFIG_HOME=no_config)


def serve(*args: str) -> ServeProcess:
    """`asrx serve ARGS` with the bench's key, listening."""
    return ServeProcess("--api-key", API_KEY, *args, env=client_environment())


def command(client: str, audio, url: str, speed: float = 1, *options) -> list[str]:
    """asrx (with `options`), the baseline or its sending part alone (the floor), streaming
    `audio` at real time (speed 1) or unpaced (speed 0)."""
    if client.startswith("asrx"):
        return [*asrx_command(), "transcribe", str(audio), "--url", url, "--speed", f"{speed:g}",
                "-q", *map(str, options)]
    baseline = [sys.executable, str(BENCH_DIR / "baseline.py"), str(audio), "--url", url]
    return (baseline + ([] if speed else ["--no-sleep"])
            + (["--send-only"] if client.startswith("floor") else []))


def stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name; none once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def process_cpu_seconds(pid: int) -> float:
    """User + system seconds of a live process; 0 once it is gone."""
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS if fields else 0.0


def tree_cpu_seconds(root: int) -> float:
    """User + system seconds of a process and all its descendants alive now."""
    children = collections.defaultdict(list)
    for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
        children[int((stat_fields(pid) or [0, 0])[1])].append(pid)
    tree, pending = [], [root]
    while pending:
        tree.append(pending.pop())
        pending.extend(children[tree[-1]])
    return sum(map(process_cpu_seconds, tree))


class SinkProcess:
    """bench/sink.py in a process of its own; its port, then the record of each connection,
    arrive on a queue."""

    def __init__(self, script: list = ()):
        self.queue = PROCESSES.Queue()
        self.process = PROCESSES.Process(target=sink.serve, args=(self.queue, script))
        self.process.start()
        self.port = self.next("port")
        self.held: dict[str, list[dict]] = collections.defaultdict(list)  # by tag

    def next(self, what: str):
        try:
            return self.queue.get(timeout=30)
        except queue.Empty:
            raise RuntimeError(f"the sink sent no {what} in 30 s") from None

    def url(self, tag: str) -> str:
        return f"ws://127.0.0.1:{self.port}/asrx?tag={tag}"

    def records(self, tag: str, count: int) -> list[dict]:
        """The records of the next `count` connections tagged `tag`, once they have ended."""
        while len(self.held[tag]) < count:
            record = self.next(f"record of a connection tagged {tag!r}")
            self.held[record["tag"]].append(record)
        taken, self.held[tag] = self.held[tag][:count], self.held[tag][count:]
        return taken

    def record(self, tag: str) -> dict:
        return self.records(tag, 1)[0]

    def stream(self, client: str, audio: str, tag: str, timeout: float, speed: float = 1,
               **watch) -> tuple["Client", dict]:
        """One run of `client` streaming `audio` here, and the sink's record of it."""
        run = Client(command(client, audio, self.url(tag), speed), **watch).finish(timeout)
        return run, self.record(tag)

    def __enter__(self) -> "SinkProcess":
        return self

    def __exit__(self, *exc_info):
        self.process.terminate()
        self.process.join(10)


class Client:
    """Starts a client; a thread stamps its stdout lines, another samples its CPU."""

    def __init__(self, command: list[str], sample_cpu_every: float = 1.0):
        self.command, self.stderr = command, tempfile.TemporaryFile()
        self.lines: list[tuple[float, str]] = []  # (arrival stamp, line)
        self.cpu_samples: list[tuple[float, float]] = []  # (stamp, CPU seconds)
        self.started = time.monotonic()
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.stderr,
                                        stdin=subprocess.DEVNULL, env=client_environment())
        self.exit = os.pidfd_open(self.process.pid)  # readable once the process has ended
        self.threads = [threading.Thread(target=self.read_stdout, daemon=True),
                        threading.Thread(target=self.sample_cpu, args=(sample_cpu_every,),
                                         daemon=True)]
        for thread in self.threads:
            thread.start()

    def read_stdout(self):
        for line in self.process.stdout:  # each line as soon as it is whole
            self.lines.append((time.monotonic(), line.decode("utf-8", "replace").rstrip("\n")))

    def sample_cpu(self, every: float):
        last = 0.0
        while not select.select([self.exit], [], [], every)[0]:
            # A process that has just ended reads as zero: CPU time only grows.
            last = max(process_cpu_seconds(self.process.pid), last)
            self.cpu_samples.append((time.monotonic(), last))

    def cpu_between(self, start: float, end: float) -> float:
        """CPU seconds spent between two stamps, interpolated from the samples."""
        stamps, cpu = zip(*self.cpu_samples)
        return float(np.interp(end, stamps, cpu) - np.interp(start, stamps, cpu))

    def finish(self, timeout: float) -> "Client":
        """Wait for the client's exit, stamp it, and take its own CPU time from wait4."""
        ended = select.select([self.exit], [], [], timeout)[0]
        self.exited = time.monotonic()
        if not ended:
            self.process.kill()
        for thread in self.threads:  # they stop at the end of stdout and of the process
            thread.join(10)
        _, status, usage = os.wait4(self.process.pid, 0)
        os.close(self.exit)
        self.cpu_seconds = usage.ru_utime + usage.ru_stime
        self.process.returncode = os.waitstatus_to_exitcode(status)  # tells Popen it is reaped
        self.process.stdout.close()
        with self.stderr:
            self.stderr.seek(0)
            stderr = self.stderr.read().decode("utf-8", "replace")
        if not ended:
            raise RuntimeError(f"client did not finish in {timeout:.0f} s: {' '.join(self.command)}")
        if self.process.returncode != 0:
            raise RuntimeError(f"client failed with status {self.process.returncode}: "
                               f"{' '.join(self.command)}\n{stderr}")
        return self


def json_events(url: str, audio: str, *options: str, speed: float = 1) -> list[dict]:
    """The events of `asrx transcribe --json`."""
    run = Client(command("asrx", audio, url, speed, "--json", *options)).finish(600)
    return [json.loads(line) for _, line in run.lines if line]


def peak_rss_mb(command: list[str], timeout: float) -> float:
    """The peak RSS of `command` itself, from GNU time: Linux carries the high-water mark across
    exec, so a client started straight from the bench would report at least the bench's size."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
        Client(["/usr/bin/time", "-f", "%M", "-o", out.name] + command).finish(timeout)
        return int(out.read().split()[-1]) / 1024  # KiB
