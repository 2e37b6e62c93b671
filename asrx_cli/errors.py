"""Exit statuses and the exceptions that carry them.

Every failure a user can meet is an `AsrxError` subclass holding its exit
status and a one-line message; `cli.run_guarded` is the one place that turns them into
an exit status and a line on stderr.
"""

import enum
from typing import Optional

EXIT_STATUS_HELP = """\b
Exit status:
  0    success
  1    internal error
  2    usage or configuration error
  3    unreadable, invalid, empty or truncated audio
  4    the server refused the API key
  5    connection, TLS or protocol failure (incl. no end marker in time)
  130  interrupted (Ctrl-C)
  141  stdout was closed by its reader (as with SIGPIPE)
  143  terminated (SIGTERM), as after Ctrl-C
"""


class ExitStatus(enum.IntEnum):
    SUCCESS = 0
    ERROR = 1
    USAGE = 2
    AUDIO = 3
    AUTH = 4
    CONNECTION = 5
    PIPE_CLOSED = 141  # the reader of stdout went away, as with SIGPIPE
    INTERRUPTED = 130
    TERMINATED = 143  # SIGTERM, handled as Ctrl-C


class AsrxError(Exception):
    """Base of every error asrx reports to the user."""

    exit_status = ExitStatus.ERROR
    label = "error: "  # what precedes the message on stderr

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UsageError(AsrxError):
    """Bad options, configuration or output path."""

    exit_status = ExitStatus.USAGE


class OutputFailed(UsageError):
    """The transcript cannot be written (a full disk, an I/O error)."""

    def __init__(self, reason: str):
        super().__init__(f"cannot write the transcript: {reason}")


class AudioError(AsrxError):
    """The audio cannot be read, or is not audio, or is empty or truncated."""

    exit_status = ExitStatus.AUDIO


class AuthError(AsrxError):
    """The server refused the API key."""

    exit_status = ExitStatus.AUTH


class ConnectionFailed(AsrxError):
    """Connection, TLS or protocol failure, including a missing end marker."""

    exit_status = ExitStatus.CONNECTION


class ServerBusy(ConnectionFailed):
    """The server turned the session away for now (HTTP 503 or 429): worth trying again."""

    def __init__(self, message: str, status: str, retry_after: Optional[float] = None):
        super().__init__(message)
        self.status = status  # "HTTP 503 Service Unavailable"
        self.retry_after = retry_after  # seconds, from its Retry-After header, if it sent one


class ServerStalled(ConnectionFailed):
    """The server stopped taking data: nothing more will come of this connection."""


class OutputClosed(AsrxError):
    """Whoever reads our stdout has gone away (`asrx ... | head -1`)."""

    exit_status = ExitStatus.PIPE_CLOSED

    def __init__(self):
        super().__init__("output closed")


class Interrupted(AsrxError):
    """Ctrl-C: the transcript received until then has been written."""

    exit_status = ExitStatus.INTERRUPTED
    label = ""


class Terminated(Interrupted):
    """SIGTERM, handled as Ctrl-C."""

    exit_status = ExitStatus.TERMINATED
