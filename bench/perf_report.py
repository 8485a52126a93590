"""The benchmark's table: each figure beside its ceiling, their ratio, the goal and whether it is met.

Absolute numbers drift on a shared 2-core machine; the ratio of two figures measured side by side on one server
holds. So every row is a figure, a ceiling measured in the same run, and a goal on their ratio (if the issue
sets one). Pure code: formatting and goal logic, tested in tests/test_bench_perf_report.py.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

Direction = Literal["at_least", "at_most"]


@dataclass(frozen=True)
class Goal:
    """A bound on figure / ceiling: `at_least` for rates (higher is better), `at_most` for costs."""

    direction: Direction
    bound: float

    def met(self, ratio: float) -> bool:
        if math.isnan(ratio):
            return False
        return ratio >= self.bound if self.direction == "at_least" else ratio <= self.bound

    def render(self) -> str:
        sign = "≥" if self.direction == "at_least" else "≤"
        return f"{sign} {self.bound:g}×" if self.direction == "at_most" else f"{sign} {self.bound:.0%}"


AT_LEAST_90_PERCENT = Goal("at_least", 0.9)
AT_MOST_1_5 = Goal("at_most", 1.5)


@dataclass(frozen=True)
class Row:
    """One line of the table. `ceiling` None: a figure with nothing to compare (memory, database size)."""

    part: str
    measure: str
    size: int
    figure: float
    unit: str
    ceiling: float | None = None
    goal: Goal | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ceiling is None:
            return None
        if self.ceiling == 0:
            return math.nan
        return self.figure / self.ceiling

    @property
    def met(self) -> bool | None:
        ratio = self.ratio
        if self.goal is None or ratio is None:
            return None
        return self.goal.met(ratio)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["goal"] = self.goal.render() if self.goal else None
        data["ratio"] = self.ratio
        data["met"] = self.met
        return data


def number(value: float) -> str:
    """Three significant figures, without scientific notation for the sizes a benchmark meets."""
    if math.isnan(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    if magnitude == 0:
        return "0"
    return f"{value:.3g}"


def ratio_text(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    return "n/a" if math.isnan(ratio) else f"{ratio:.2f}"


def met_text(met: bool | None) -> str:
    return "—" if met is None else ("yes" if met else "NO")


HEADER = ("measure", "N", "figure", "ceiling", "ratio", "goal", "met?")


def cells(row: Row) -> tuple[str, ...]:
    ceiling = "—" if row.ceiling is None else f"{number(row.ceiling)} {row.unit}"
    return (f"{row.part}: {row.measure}", f"{row.size:,}", f"{number(row.figure)} {row.unit}", ceiling,
            ratio_text(row.ratio), row.goal.render() if row.goal else "—", met_text(row.met))


def render_text(rows: Sequence[Row]) -> str:
    """A plain table for the terminal, columns padded to fit."""
    table = [HEADER, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    right = {1, 2, 3, 4}
    lines = []
    for n, line in enumerate(table):
        lines.append("  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths,
                                                                                                      strict=True))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def render_markdown(rows: Sequence[Row]) -> str:
    """The same table as Markdown, for the README and data/bench/."""
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * 2 + "--:|" * 3 + "---|---|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in cells(r)) + " |" for r in rows]
    return "\n".join(out)


def render_notes(rows: Sequence[Row]) -> str:
    """The rows' notes (what a figure counts, what limits it), one line each, numbered like the parts."""
    seen: list[str] = []
    for row in rows:
        line = f"{row.part}: {row.measure}: {row.note}" if row.note else ""
        if line and line not in seen:
            seen.append(line)
    return "\n".join(f"- {line}" for line in seen)


def _finite(value: Any) -> Any:
    """JSON has no NaN: a ratio that cannot be computed becomes null; floats are rounded to stay readable."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 4)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def to_json(rows: Sequence[Row], meta: dict[str, Any]) -> str:
    document = _finite({"meta": meta, "rows": [r.as_dict() for r in rows]})
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False, default=str)


def goals_summary(rows: Sequence[Row]) -> str:
    """One line: how many goals were met of those set."""
    judged = [r for r in rows if r.met is not None]
    missed = [f"{r.part}: {r.measure} (N={r.size:,})" for r in judged if not r.met]
    text = f"goals met: {len(judged) - len(missed)} of {len(judged)}"
    return text + (f"; missed: {', '.join(missed)}" if missed else "")
