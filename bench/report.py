"""The results table: its rows, the statistics behind them, and how numbers are written."""

import math
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np


@dataclass
class Row:
    figure: str
    asrx: str
    baseline: str = "—"
    ratio: str = "—"
    goal: str = ""
    met: Optional[bool] = None  # None: no goal, or nothing to judge

    def cells(self) -> list[str]:
        verdict = "" if self.met is None else ": met" if self.met else ": **missed**"
        return [self.figure, self.asrx, self.baseline, self.ratio, self.goal + verdict]


@dataclass
class FigureResult:
    """What one group of figures measured: table rows, notes on them, and the raw numbers."""

    name: str
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    raw: dict = field(default_factory=dict)
    other_load: float = 0.0  # cores that other processes kept busy meanwhile


def paired(figure: str, asrx, baseline, show: Callable, stat: str = "", goal: str = "",
           met: Optional[bool] = None) -> Row:
    """asrx beside the baseline, each written by `show`, and their ratio: of the statistic `stat`
    of two summaries, or of the values themselves."""
    a, b = (asrx[stat], baseline[stat]) if stat else (asrx, baseline)
    return Row(figure, show(asrx), show(baseline), ratio(a, b, stat), goal, met)


def markdown_table(rows: list[Row]) -> str:
    lines = ["| figure | asrx | baseline | ratio | goal |", "|---|---|---|---|---|"]
    for row in rows:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row.cells()) + " |")
    return "\n".join(lines)


def summary(values: Sequence[float]) -> dict:
    """Nearest-rank percentiles (the smallest value with that share of the values at or below)."""
    padded = values if len(values) else [math.nan]  # no values: every statistic is nan
    found = np.percentile(padded, [50, 95, 99, 100], method="inverted_cdf")
    return {**dict(zip(("p50", "p95", "p99", "max"), map(float, found))), "n": len(values)}


def ms(seconds: float, digits: int = 1) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.{digits}f} ms"


def ms_of(*keys: str, digits: int = 2) -> Callable[[dict], str]:
    """Some of a summary's values in ms: ms_of("p50", "p99")(summary) is "0.39 / 0.57 ms"."""
    return lambda found: " / ".join(f"{found[key] * 1000:.{digits}f}" for key in keys) + " ms"


def times(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0f}×" if value >= 100 else f"{value:.3g}×"


def ratio(asrx: float, baseline: float, which: str = "") -> str:
    """asrx ÷ baseline, the same way in every row; `which` names the statistic compared."""
    if not baseline or math.isnan(baseline) or math.isnan(asrx):
        return "—"
    value = asrx / baseline
    return (f"{value:.2f}" if value >= 0.01 else f"{value:.1e}") + (f" ({which})" if which else "")


def within(figure: str, asrx: dict, baseline: dict, shown: tuple, stat: str, limit: float,
           digits: int = 2) -> Row:
    """Two summaries, their `shown` statistics in ms; met when asrx's `stat` ≤ `limit` seconds."""
    return paired(figure, asrx, baseline, ms_of(*shown, digits=digits), stat,
                  f"{stat} ≤ {limit * 1000:g} ms", asrx[stat] <= limit)
