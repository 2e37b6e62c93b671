"""The server's lines on stderr: one per session, never an API key."""

import logging
import os
import sys

from asrx_cli.logs import masked_handler, use_only

LOGGER_NAME = "asrx.serve"
PREFIX = "asrx serve: "


class OneLineFormatter(logging.Formatter):
    """No tracebacks: a line a person reads, whatever the library logged."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message += f": {type(error).__name__}: {error}"
        return PREFIX + message


def setup_logging(verbose: bool, quiet: bool, secrets=()) -> logging.Logger:
    handler = masked_handler(sys.stderr, OneLineFormatter(), secrets)
    logger = logging.getLogger(LOGGER_NAME)
    use_only(logger, handler,
             logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    # The websockets library: its handshake failures and such, one line each
    # (its INFO lines repeat what the session lines say).
    use_only(logging.getLogger("websockets"), handler, logging.WARNING)
    return logger


def os_error_text(error: OSError) -> str:
    """What the system says of an OSError, without Python's "[Errno N]" prefix."""
    return os.strerror(error.errno) if error.errno else str(error)


def format_peer(address) -> str:
    if not address:
        return "unknown peer"
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
