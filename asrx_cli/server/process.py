"""`asrx serve` in a subprocess, on a free port that its listening line names.

The one way the demo, the tests and the bench start a server of their own.
Standard library only: importing it loads neither websockets nor the engine.
"""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import List, Optional, TextIO

LISTENING = "asrx serve: listening on "


def asrx_command() -> List[str]:
    """The installed console script beside this Python, else the module."""
    script = Path(sys.executable).with_name("asrx")
    return [str(script)] if script.exists() else [sys.executable, "-m", "asrx_cli"]


class ServeProcess:
    """`asrx serve --port 0 ARGS...`, started and listening once constructed.

    stderr is drained all along (a full pipe would stall the server), kept in
    `stderr_lines` and, with `relay`, passed on as it comes.
    """

    def __init__(self, *args: str, env: Optional[dict] = None, relay: Optional[TextIO] = None,
                 timeout: float = 120.0):
        self.process = subprocess.Popen(
            asrx_command() + ["serve", "--port", "0", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, **(env or {})),
        )
        self.relay = relay
        self.stderr_lines: List[str] = []
        self.url: Optional[str] = None
        self._listening = threading.Event()
        self._reader = threading.Thread(target=self._read_stderr, name="asrx-serve-log",
                                        daemon=True)
        self._reader.start()
        if not self._listening.wait(timeout) or self.url is None:
            self.kill()
            raise RuntimeError(f"asrx serve did not start: {self.stderr.strip()[-500:]}")
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None  # Popen(stderr=PIPE)
        for line in self.process.stderr:
            self.stderr_lines.append(line)
            if self.relay is not None:
                self.relay.write(line)
                self.relay.flush()
            if line.startswith(LISTENING) and self.url is None:
                self.url = line[len(LISTENING):].strip()
                self._listening.set()
        self._listening.set()  # it exited, listening or not

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def stop(self, signal_number: int = signal.SIGTERM, timeout: float = 30.0):
        """Send the signal and wait; (exit status, all of stderr). Killed if it
        does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal_number)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reader.join(timeout)
        return self.process.returncode, self.stderr

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "ServeProcess":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
