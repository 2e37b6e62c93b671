"""The processes under measurement: the sink, `asrx serve`, and clients watched by threads that
stamp their events (time.monotonic); and the audio they stream."""

import collections
import contextlib
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
import psutil
import soundfile

from asrx_cli.server.process import ServeProcess, asrx_command
from asrx_cli.wire import SAMPLE_RATE
from bench import sink

BENCH_DIR = Path(__file__).resolve().parent

API_KEY = "bench-key"
# A sink is spawned: a fresh child with none of the bench's threads, its CPU the bench's own.
PROCESSES = multiprocessing.get_context("spawn")
CYCLE_SECONDS = 60  # long inputs repeat a one-minute cycle: writing them costs disk time only


def client_environment() -> dict[str, str]:
    """The user's environment without asrx settings or config file, plus the bench's key."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ASRX_")}
    no_config = tempfile.gettempdir() + "/asrx-bench-no-config"
    return dict(environment, ASRX_API_KEY=API_KEY, XDG_CONFIG_HOME=no_config)


def serve(*args: str) -> ServeProcess:
    """`asrx serve ARGS` with the bench's key, listening."""
    return ServeProcess("--api-key", API_KEY, *args, env=client_environment())


def command(client: str, audio, url: str, speed: float = 1, *options) -> list[str]:
    """asrx (with `options`), the baseline or its sending part alone (the floor) at `speed`."""
    if client.startswith("asrx"):
        return [*asrx_command(), "transcribe", str(audio), "--url", url, "--speed", f"{speed:g}",
                "-q", *map(str, options)]
    baseline = [sys.executable, str(BENCH_DIR / "baseline.py"), str(audio), "--url", url]
    return (baseline + ([] if speed else ["--no-sleep"])
            + (["--send-only"] if client.startswith("floor") else []))


def cpu_seconds(pid: int, tree: bool = False) -> float:
    """User + system seconds of a live process, with its descendants alive now if `tree`."""
    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)] if tree else [root]
    except psutil.NoSuchProcess:  # gone: it reads as zero, as the callers expect
        return 0.0
    total = 0.0
    for process in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += sum(process.cpu_times()[:2])
    return total


class SinkProcess(contextlib.AbstractContextManager):
    """bench/sink.py in a process of its own; its port, then each connection's record, queued."""

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
            last = max(cpu_seconds(self.process.pid), last)
            self.cpu_samples.append((time.monotonic(), last))

    def cpu_between(self, start: float, end: float) -> float:
        """CPU seconds spent between two stamps, interpolated from the samples."""
        stamps, cpu = zip(*self.cpu_samples)
        return float(np.interp(end, stamps, cpu) - np.interp(start, stamps, cpu))

    def finish(self, timeout: float) -> "Client":
        """Wait for the client's exit, stamp it, and take its own CPU time from wait4."""
        ended = select.select([self.exit], [], [], timeout)[0]
        self.exited = time.monotonic()
        self.wall = self.exited - self.started
        if not ended:
            self.process.kill()
        for thread in self.threads:  # they stop at the end of stdout and of the process
            thread.join(10)
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)  # tells Popen it is reaped
        self.cpu_seconds = usage.ru_utime + usage.ru_stime
        os.close(self.exit)
        self.process.stdout.close()
        with self.stderr:
            if ended and not self.process.returncode:
                return self
            self.stderr.seek(0)
            why = f"status {self.process.returncode}" if ended else f"no exit in {timeout:g} s"
            raise RuntimeError(f"client ended with {why}: {' '.join(self.command)}\n"
                               + self.stderr.read().decode("utf-8", "replace"))


def asrx(url: str, audio, speed: float, *options) -> Client:
    return Client(command("asrx", audio, url, speed, *options)).finish(600)


def json_events(url: str, audio, *options: str, speed: float = 1) -> list[dict]:
    lines = asrx(url, audio, speed, "--json", *options).lines
    return [json.loads(line) for _, line in lines if line]


def peak_rss_mb(command: list[str], timeout: float) -> float:
    """The peak RSS of `command` itself, from GNU time (bench/README.md, figure 4, says why)."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
        Client(["/usr/bin/time", "-f", "%M", "-o", out.name] + command).finish(timeout)
        return int(out.read().split()[-1]) / 1024  # KiB


def audio_file(path: Path, seconds: float, rate: int = SAMPLE_RATE, channels: int = 1) -> str:
    """A voice-like signal (harmonics, syllables, a little noise: FLAC costs what speech costs) in
    a 16-bit WAV, FLAC or headerless .raw; extra channels are delayed copies."""
    t = np.arange(int(min(seconds, CYCLE_SECONDS) * rate)) / rate
    phase = 2 * np.pi * np.cumsum(140 + 30 * np.sin(2 * np.pi * 0.3 * t)) / rate  # pitch 110-170 Hz
    voice = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 2  # syllables, with pauses
    noise = np.random.default_rng(0).standard_normal(len(t)) * 0.01
    cycle, total = (0.25 * voice * envelope + noise).astype(np.float32), int(seconds * rate)
    endian = "LITTLE" if Path(path).suffix == ".raw" else "FILE"
    with soundfile.SoundFile(path, "w", rate, channels, "PCM_16", endian=endian) as out:
        for start in range(0, total, len(cycle)):  # a block at a time: 3 h need no 3 h of memory
            block = cycle[:total - start]
            out.write(np.stack([np.roll(block, 7 * n) for n in range(channels)], axis=1))
    return str(path)
