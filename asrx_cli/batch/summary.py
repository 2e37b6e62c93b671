"""What became of each file of a batch: one line on stderr, one exit status."""

import dataclasses
import enum
from typing import Iterable, List, Optional

from asrx_cli.batch.plan import Item
from asrx_cli.errors import AsrxError, AuthError, ExitStatus, OutputClosed, OutputFailed


class Result(enum.Enum):
    TRANSCRIBED = "transcribed"
    DONE_BEFORE = "already done"
    SKIPPED = "skipped: not audio"
    INTERRUPTED = "interrupted"
    NOT_STARTED = "not started"
    FAILED = "failed"


# Failures that every other file would meet as well: the batch stops at once. In this
# order they decide its exit status (a closed stdout before a refused key, before a
# full disk).
STOPS_THE_BATCH = (OutputClosed, AuthError, OutputFailed)


@dataclasses.dataclass(frozen=True)
class Outcome:
    item: Item
    result: Result
    error: Optional[AsrxError] = None

    @property
    def message(self) -> str:
        """`path: what went wrong`, the path said once."""
        text = self.error.message if self.error else self.result.value
        return text if text.startswith(self.item.path + ":") else f"{self.item.path}: {text}"


def summary_line(outcomes: Iterable[Outcome]) -> str:
    """`5 transcribed, 2 already done, 3 skipped: not audio, 1 failed: calls/x.wav: not a ...`."""
    outcomes = list(outcomes)
    counts = {result: sum(1 for o in outcomes if o.result is result) for result in Result}
    parts = [f"{counts[result]} {result.value}" for result in Result
             if counts[result] or result is Result.TRANSCRIBED]
    failures = [o.message for o in outcomes if o.result is Result.FAILED]
    if failures:
        parts[-1] += ": " + "; ".join(failures)
    return ", ".join(parts)


def exit_status(outcomes: List[Outcome]) -> int:
    """What stopped the batch, else Ctrl-C, else the first failure class in the documented order."""
    errors = [o.error for o in outcomes if o.error is not None]
    for kind in STOPS_THE_BATCH:
        if any(isinstance(error, kind) for error in errors):
            return kind.exit_status
    if any(o.result in (Result.INTERRUPTED, Result.NOT_STARTED) for o in outcomes):
        return ExitStatus.INTERRUPTED
    return min((error.exit_status for error in errors), default=ExitStatus.SUCCESS)
