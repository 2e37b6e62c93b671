"""Logging to stderr, with secrets masked in every line."""

import logging
from typing import Iterable, TextIO

LOGGER_NAME = "asrx"
MASK = "****"
MIN_MASKED_LENGTH = 4


class SecretFilter(logging.Filter):
    """Replaces secrets wherever they would appear in a formatted record."""

    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        # A key of a character or two cannot be masked without garbling every line.
        self.secrets = [s for s in secrets if s and len(s) >= MIN_MASKED_LENGTH]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, MASK)
        record.msg, record.args = message, None
        return True


class PrefixFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = "asrx: warning: " if record.levelno == logging.WARNING else "asrx: "
        return prefix + record.getMessage()


def setup_logging(stderr: TextIO, verbose: bool, quiet: bool,
                  secrets: Iterable[str] = ()) -> logging.Logger:
    logger = logging.getLogger(LOGGER_NAME)
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING
    use_only(logger, masked_handler(stderr, PrefixFormatter(), secrets), level)
    return logger


def masked_handler(stream: TextIO, formatter: logging.Formatter,
                   secrets: Iterable[str]) -> logging.Handler:
    """A handler that writes to `stream` with every secret masked."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(SecretFilter(secrets))
    return handler


def use_only(logger: logging.Logger, handler: logging.Handler, level: int) -> None:
    """Make `handler` the logger's only one (a second setup replaces the first), at `level`."""
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
