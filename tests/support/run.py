"""Running asrx the two ways the tests do: through click's runner, or the installed asrx."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from asrx_cli.cli import cli
from tests.support import API_KEY

ASRX = str(Path(sys.executable).with_name("asrx"))


def run_cli(args, input=None, env=None, api_key=API_KEY):
    """Run `asrx ARGS` through click's runner; stdout and stderr stay apart."""
    environment = {"ASRX_API_KEY": api_key} if api_key else {}
    environment.update(env or {})
    return CliRunner().invoke(cli, args, input=input, env=environment, catch_exceptions=False)


def run_transcribe(server, *args, **options):
    """`asrx transcribe --url SERVER ARGS` through click's runner."""
    return run_cli(["transcribe", "--url", server.url, *map(str, args)], **options)


def start_asrx(*args, env=None, **popen) -> subprocess.Popen:
    """The installed `asrx ARGS` in a subprocess: stdout and stderr piped unless given."""
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([ASRX, *map(str, args)], env=env or subprocess_env(), **popen)


def run_asrx(*args, env=None, timeout=120, **options) -> subprocess.CompletedProcess:
    """The installed `asrx ARGS` to its end (stdin empty unless given), failing after `timeout`."""
    if "input" not in options:
        options.setdefault("stdin", subprocess.DEVNULL)
    options.setdefault("capture_output", "stdout" not in options and "stderr" not in options)
    return subprocess.run([ASRX, *map(str, args)], env=env or subprocess_env(), timeout=timeout,
                          **options)


def pipe_to_asrx(data: bytes, *args, env=None):
    """The installed `asrx ARGS` with `data` on a stdin pipe that stays open: (status, stderr),
    once asrx has ended by itself."""
    process = start_asrx(*args, env=env, stdin=subprocess.PIPE)
    try:
        process.stdin.write(data)
        process.stdin.flush()
        _, err = process.stdout.read(), process.stderr.read()  # EOF: the process has ended
        process.wait(timeout=30)
    finally:
        process.kill()
        process.stdin.close()
    return process.returncode, err.decode()


def json_lines(text):
    return [json.loads(line) for line in text.splitlines()]


def subprocess_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASRX_")}
    env.update({"ASRX_API_KEY": API_KEY, "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def wait_for(condition, timeout=10.0):
    """Until `condition()` holds; failing the test after `timeout` seconds instead of hanging."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not there within {timeout} s"
        time.sleep(0.02)


