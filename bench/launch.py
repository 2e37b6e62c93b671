"""Run a command and write its own peak RSS and CPU time to a JSON file.

    python bench/launch.py RESULT.json COMMAND [ARGS...]

Why a launcher: Linux carries the RSS high-water mark of a process's memory
across exec, so a child forked straight from the bench (tens of MB, with
numpy and the sink's records) would report at least the bench's size as its
peak. This small process, standard library only, forks the client instead;
its own size at the fork is written down too, as the floor of the reading.
"""

import json
import os
import sys


def own_rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    result_path, command = sys.argv[1], sys.argv[2:]
    floor = own_rss_kib()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    with open(result_path, "w") as result:
        json.dump({"max_rss_kib": usage.ru_maxrss, "floor_kib": floor,
                   "cpu_seconds": usage.ru_utime + usage.ru_stime}, result)
    sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)


if __name__ == "__main__":
    main()
