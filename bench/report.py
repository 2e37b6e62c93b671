"""Rows of the results table and their Markdown."""

import math
from dataclasses import dataclass
from typing import List, Optional

MET, MISSED, NO_GOAL = "met", "**missed**", ""


@dataclass
class Row:
    figure: str
    asrx: str
    baseline: str = "—"
    ratio: str = "—"
    goal: str = ""
    met: Optional[bool] = None  # None: no goal, or nothing to judge
    why: str = ""  # for a missed goal: the measured reason

    @property
    def verdict(self) -> str:
        if self.met is None:
            return self.goal
        return f"{self.goal}: {MET if self.met else MISSED}"


@dataclass
class FigureResult:
    """What one group of figures measured: table rows, notes on them, and the raw numbers."""

    name: str
    rows: List[Row]
    notes: List[str]
    raw: dict
    other_load: Optional[float] = None  # cores busy with other processes meanwhile (run.py fills it)


def skipped(name: str, figure: str, why: str) -> FigureResult:
    return FigureResult(name, [Row(figure, "skipped")], [f"{figure}: skipped: {why}"], {"skipped": why})


def failed(label: str, why: str) -> FigureResult:
    return FigureResult(label, [Row(f"{label}: the measurement failed", why)], [f"{label} failed: {why}"],
                        {"failed": why})


# --- number formats -------------------------------------------------------------------


def ms(seconds: float, digits: int = 1) -> str:
    return "n/a" if seconds is None or math.isnan(seconds) else f"{seconds * 1000:.{digits}f} ms"


def ms_triple(values) -> str:
    """p50 / p99 / max in ms."""
    return " / ".join(f"{v * 1000:.2f}" for v in values) + " ms"


def times(value: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.0f}×" if value >= 100 else f"{value:.3g}×"


def ratio(asrx: float, baseline: float) -> str:
    """asrx ÷ baseline, the same way in every row."""
    if not baseline or math.isnan(baseline) or math.isnan(asrx):
        return "—"
    value = asrx / baseline
    return f"{value:.2f}" if value >= 0.01 else f"{value:.1e}"


# --- the table ------------------------------------------------------------------------


def markdown_table(rows: List[Row]) -> str:
    lines = ["| figure | asrx | baseline | ratio | goal |", "|---|---|---|---|---|"]
    for row in rows:
        cells = [row.figure, row.asrx, row.baseline, row.ratio, row.verdict]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)
