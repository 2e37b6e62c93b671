"""The processes under measurement: the sink, `asrx serve`, and clients watched by threads that
stamp their events (time.monotonic)."""

import collections
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

from asrx_cli.server.process import ServeProcess, asrx_command

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # speech, servers and proxies from the tests' helpers
API_KEY = "bench-key"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def client_environment() -> Dict[str, str]:
    """The user's environment without asrx settings or config file, plus the bench's key."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ASRX_")}
    no_config = tempfile.gettempdir() + "/asrx-bench-no-config"
    return dict(environment, ASRX_API_KEY=API_KEY, XDG_CONFIG_HOME=no_config)


def serve(*args: str) -> ServeProcess:
    """`asrx serve ARGS` with the bench's key, listening."""
    return ServeProcess("--api-key", API_KEY, *args, env=client_environment())


def command(client: str, audio: str, url: str, speed: float = 1) -> List[str]:
    """asrx, or the baseline, streaming `audio` at real time (speed 1) or unpaced (speed 0)."""
    if client.startswith("asrx"):
        return [*asrx_command(), "transcribe", audio, "--url", url, "--speed", f"{speed:g}", "-q"]
    baseline = [sys.executable, str(BENCH_DIR / "baseline.py"), audio, "--url", url]
    return baseline + ([] if speed else ["--no-sleep"])


def process_cpu_seconds(pid: int) -> float:
    """User + system seconds of a live process; 0 once it is gone."""
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS if fields else 0.0


def stat_fields(pid: int) -> List[str]:
    """The fields of /proc/PID/stat after the command name; none once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


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
    """bench/sink.py in a subprocess; the record of each connection arrives as a JSON line."""

    def __init__(self, *options: str):
        self.process = subprocess.Popen([sys.executable, "-m", "bench.sink", *options],
                                        cwd=BENCH_DIR.parent, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        first = self.process.stdout.readline().split()
        if first[:1] != ["listening"]:
            self.stop()
            raise RuntimeError(f"the sink did not start: {first}")
        self.port = int(first[1])
        self.held: Dict[str, List[dict]] = collections.defaultdict(list)  # by tag
        self.arrived = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.process.stdout:
            record = json.loads(line)
            with self.arrived:
                self.held[record["tag"]].append(record)
                self.arrived.notify_all()

    def url(self, tag: str) -> str:
        return f"ws://127.0.0.1:{self.port}/asrx?tag={tag}"

    def records(self, tag: str, count: int, timeout: float = 30.0) -> List[dict]:
        """The records of the next `count` connections tagged `tag`, once they have ended."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.held[tag]) >= count, timeout):
                raise RuntimeError(f"the sink reported {len(self.held[tag])} connections tagged "
                                   f"{tag!r} in {timeout:g} s, not {count}")
            taken, self.held[tag] = self.held[tag][:count], self.held[tag][count:]
        return taken

    def record(self, tag: str) -> dict:
        return self.records(tag, 1)[0]

    def stream(self, client: str, audio: str, tag: str, timeout: float, speed: float = 1,
               **watch) -> Tuple["Client", dict]:
        """One run of `client` streaming `audio` here, and the sink's record of it."""
        run = Client(command(client, audio, self.url(tag), speed), **watch).finish(timeout)
        return run, self.record(tag)

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.terminate()
            self.process.wait(10)

    def __enter__(self) -> "SinkProcess":
        return self

    def __exit__(self, *exc_info):
        self.stop()


class Client:
    """Starts a client; a thread stamps its stdout lines, another samples its CPU if asked."""

    def __init__(self, command: List[str], sample_cpu_every: float = 0.0,
                 also_watch: Tuple[int, ...] = ()):
        self.command, self.also_watch, self.stderr = command, also_watch, tempfile.TemporaryFile()
        self.lines: List[Tuple[float, str]] = []  # (arrival stamp, line)
        # (stamp, CPU seconds of the client, CPU seconds of the other watched processes)
        self.cpu_samples: List[Tuple[float, float, float]] = []
        self.started = time.monotonic()
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.stderr,
                                        stdin=subprocess.DEVNULL, env=client_environment())
        self.exit = os.pidfd_open(self.process.pid)  # readable once the process has ended
        self.threads = [threading.Thread(target=self.read_stdout, daemon=True)]
        if sample_cpu_every:
            self.threads.append(threading.Thread(target=self.sample_cpu, args=(sample_cpu_every,),
                                                 daemon=True))
        for thread in self.threads:
            thread.start()

    def read_stdout(self):
        for line in self.process.stdout:  # each line as soon as it is whole
            self.lines.append((time.monotonic(), line.decode("utf-8", "replace").rstrip("\n")))

    def sample_cpu(self, every: float):
        last = (0.0, 0.0)
        while not select.select([self.exit], [], [], every)[0]:
            # A process that has just ended reads as zero: CPU time only grows.
            last = (max(process_cpu_seconds(self.process.pid), last[0]),
                    max(sum(map(process_cpu_seconds, self.also_watch)), last[1]))
            self.cpu_samples.append((time.monotonic(), *last))

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
        self.stderr.seek(0)
        stderr = self.stderr.read().decode("utf-8", "replace")
        self.stderr.close()
        command = " ".join(self.command)
        if not ended:
            raise RuntimeError(f"client did not finish in {timeout:.0f} s: {command}")
        if self.process.returncode != 0:
            raise RuntimeError(f"client failed with status {self.process.returncode}: {command}\n"
                               f"{stderr}")
        return self


def json_events(url: str, audio: str, *options: str, speed: float = 1) -> List[dict]:
    """The events of `asrx transcribe --json`."""
    run = Client(command("asrx", audio, url, speed) + ["--json", *options]).finish(600)
    return [json.loads(line) for _, line in run.lines if line]


def cpu_between(samples: List[Tuple[float, float, float]], start: float, end: float) -> tuple:
    """CPU seconds (client, watched others) spent between two stamps, interpolated from samples."""
    stamps, *cpu = zip(*samples)
    return tuple(float(np.interp(end, stamps, v) - np.interp(start, stamps, v)) for v in cpu)


def peak_rss_mb(command: List[str], timeout: float) -> float:
    """The peak RSS of `command` itself, from GNU time: Linux carries the high-water mark across
    exec, so a client started straight from the bench would report at least the bench's size."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
        Client(["/usr/bin/time", "-f", "%M", "-o", out.name] + command).finish(timeout)
        return int(out.read().split()[-1]) / 1024  # KiB
