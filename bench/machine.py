"""The machine a run measures on: what it is, and how busy other processes keep it.

The bench shares its machine: other programs' CPU use shows up as noise in
every timing. So before each figure the bench waits (a bounded time) for the
machine to settle, and during it measures how many cores other processes
kept busy: all busy CPU time from /proc/stat minus the bench's own and its
children's (rusage).
"""

import datetime
import os
import platform
import resource
import sys
import time
from typing import Tuple

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
QUIET_CORES = 0.15  # other load below this many cores counts as quiet
QUIET_PROBE_SECONDS = 1.0


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def description(load_before: str, load_after: str) -> str:
    return (f"{cpu_model()}, {usable_cores()} cores usable ({os.cpu_count()} online), "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()} "
            f"({sys.implementation.name}); load average (1, 5, 15 min) {load_before} before the run, "
            f"{load_after} after; {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (steal and idle left out)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq = map(int, stat.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / CLOCK_TICKS


def _own_seconds() -> float:
    """CPU seconds of the bench and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class OtherLoad:
    """Cores kept busy by other processes between start() and cores()."""

    def start(self) -> "OtherLoad":
        self.started = (time.monotonic(), _busy_seconds(), _own_seconds())
        return self

    def cores(self) -> float:
        wall, busy, own = self.started
        elapsed = time.monotonic() - wall
        return max(0.0, (_busy_seconds() - busy) - (_own_seconds() - own)) / max(elapsed, 1e-9)


def wait_for_quiet(limit: float) -> Tuple[float, float]:
    """Wait up to `limit` seconds for other load to drop below QUIET_CORES; (other load, seconds waited)."""
    started = time.monotonic()
    while True:
        probe = OtherLoad().start()
        time.sleep(QUIET_PROBE_SECONDS)
        load = probe.cores()
        waited = time.monotonic() - started
        if load < QUIET_CORES or waited >= limit:
            return load, waited
