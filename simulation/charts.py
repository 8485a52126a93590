"""The report's charts (PNG, matplotlib's Agg backend: no display needed), for one run or two side by side."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from simulation.analysis import DECISIONS, READINESS, WEEKDAYS, Summary

COLORS = ("#1f77b4", "#d62728")
"""Run A, run B."""
KIND_LABELS = {
    "phone_call": "phone calls", "representative": "representative contacts", "home_visit": "home visits",
    "decision": "decisions", "reassessment": "reassessments", "manual_delivery": "manual deliveries",
}
KIND_COLORS = {"phone_call": "#1f77b4", "representative": "#9467bd", "home_visit": "#d62728",
               "decision": "#2ca02c", "reassessment": "#ff7f0e", "manual_delivery": "#7f7f7f"}
CHANNEL_LABELS = {"digital_post": "Digital Post", "physical_post": "paper post", "email": "e-mail",
                  "caseworker": "by caseworker"}
DECISION_LABELS = {"sanction": "sanction", "no_sanction_reasonable_cause": "no sanction: reasonable cause",
                   "no_sanction_other": "no sanction: other", "undecided": "undecided at horizon"}
DECISION_COLORS = {"sanction": "#d62728", "no_sanction_reasonable_cause": "#2ca02c",
                   "no_sanction_other": "#98df8a", "undecided": "#c7c7c7"}
DPI = 110


def write_charts(runs: list[Summary], directory: Path) -> dict[str, str]:
    """Every chart for one run (or two, compared); returns title -> file name."""
    directory.mkdir(parents=True, exist_ok=True)
    charts = {
        "Days from absence to decision": ("decision_days.png", _decision_days),
        "Caseworkers' tasks per week": ("workload_weekly.png", _workload),
        "Letters by weekday and channel": ("letters_weekday.png", _letters),
        "Decisions and reasonable causes": ("outcomes.png", _outcomes),
    }
    written = {}
    for title, (name, draw) in charts.items():
        fig = draw(runs)
        fig.savefig(directory / name, dpi=DPI, bbox_inches="tight")
        plt.close(fig)
        written[title] = name
    return written


def _decision_days(runs: list[Summary]) -> Figure:
    fig, axes = plt.subplots(len(READINESS), 1, figsize=(10, 9), sharex=True)
    longest = max((max(d.days, default=0.0) for run in runs for d in run.decision_days), default=30.0)
    bins = [float(b) for b in range(0, int(longest) + 3)]
    for ax, readiness in zip(axes, READINESS, strict=True):
        index = READINESS.index(readiness)
        low, high = runs[0].decision_days[index].seeds
        ax.axvspan(low, high, color="#ffdd57", alpha=0.5, label=f"the seeds: {low:.0f}–{high:.0f} days")
        for i, run in enumerate(runs):
            stats = run.decision_days[index]
            label = (f"{run.label + ': ' if len(runs) > 1 else ''}median {_days(stats.median)}, "
                     f"90th percentile {_days(stats.p90)}, {stats.on_time_share:.0%} on time")
            if i == 0:  # run A as bars, run B as an outline over them
                ax.hist(stats.days, bins=bins, color=COLORS[0], alpha=0.55, label=label)
            else:
                ax.hist(stats.days, bins=bins, histtype="step", linewidth=1.8, color=COLORS[i], label=label)
            if stats.median is not None and stats.p90 is not None:
                ax.axvline(stats.median, color=COLORS[i], linestyle="-", linewidth=1.3)
                ax.axvline(stats.p90, color=COLORS[i], linestyle="--", linewidth=1.3)
        ax.set_title(f"{readiness}: {runs[0].decision_days[index].cases:,} cases", fontsize=10, loc="left")
        ax.set_ylabel("cases")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", alpha=0.3)
        ax.plot([], [], color="black", linestyle="-", linewidth=1.3, label="median (line)")
        ax.plot([], [], color="black", linestyle="--", linewidth=1.3, label="90th percentile (dashed)")
        ax.legend(fontsize=8, loc="upper right")
    axes[-1].set_xlabel("days from the missed meeting to the caseworker's decision")
    axes[-1].set_xlim(0, bins[-1])
    fig.suptitle("How long citizens wait for a decision, by readiness category", fontsize=12)
    fig.tight_layout()
    return fig


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} d"


def _weeks(run: Summary) -> list[date]:
    return [date.fromisoformat(w) for w in run.tasks_by_week]


def _x(days: list[date]) -> list[float]:
    return [float(mdates.date2num(d)) for d in days]  # type: ignore[no-untyped-call]


def _workload(runs: list[Summary]) -> Figure:
    kinds = [k for k in KIND_LABELS if any(r.task_total(k) for r in runs)]
    if len(runs) == 1:
        fig, ax = plt.subplots(figsize=(10, 4.8))
        run = runs[0]
        weeks = _weeks(run)
        for kind in kinds:
            ax.plot(_x(weeks), [run.tasks_by_week[w.isoformat()].get(kind, 0) for w in weeks],
                    label=KIND_LABELS[kind], color=KIND_COLORS[kind], linewidth=1.6)
        _date_axis(ax)
        ax.set_ylabel("tasks opened per week")
        ax.set_title("Caseworkers' tasks opened per week, by kind (week starting Monday)", fontsize=11)
        ax.legend(fontsize=8, ncol=len(kinds), loc="upper center", bbox_to_anchor=(0.5, -0.08), frameon=False)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        return fig
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    for ax, kind in zip(axes.flat, ("phone_call", "home_visit", "decision", "representative"), strict=True):
        for i, run in enumerate(runs):
            weeks = _weeks(run)
            ax.plot(_x(weeks), [run.tasks_by_week[w.isoformat()].get(kind, 0) for w in weeks], color=COLORS[i],
                    linewidth=1.5, linestyle="-" if i == 0 else "--", label=f"{run.label} ({run.task_total(kind)})")
        ax.set_title(KIND_LABELS[kind], fontsize=10)
        ax.set_ylabel("per week")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        _date_axis(ax)
    fig.suptitle("Caseworkers' tasks opened per week (total in brackets)", fontsize=12)
    return fig


def _date_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    # the offset beside the axis names only the year: its default ("2026-Jun") reads as if all were in June
    formatter = mdates.ConciseDateFormatter(  # type: ignore[no-untyped-call]
        locator, offset_formats=["", "%Y", "%Y", "%Y", "%Y", "%Y"])
    ax.xaxis.set_major_formatter(formatter)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="x", labelsize=8)


def _letters(runs: list[Summary]) -> Figure:
    fig, axes = plt.subplots(1, len(runs), figsize=(6.5 * len(runs), 4.5), sharey=True, squeeze=False)
    for ax, run in zip(axes[0], runs, strict=True):
        channels = [c for c in CHANNEL_LABELS if c in run.letters_by_weekday]
        width = 0.8 / max(1, len(channels))
        for i, channel in enumerate(channels):
            values = [run.letters_by_weekday[channel].get(d, 0) for d in WEEKDAYS]
            ax.bar([x + i * width - 0.4 + width / 2 for x in range(len(WEEKDAYS))], values, width=width,
                   label=CHANNEL_LABELS[channel])
        ax.set_xticks(range(len(WEEKDAYS)), WEEKDAYS)
        ax.set_ylabel("letters released")
        total = sum(sum(v.values()) for v in run.letters_by_weekday.values())
        ax.set_title(f"{run.label}: {total:,} letters (hearing, decision, reassessment)", fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Letters by the weekday they are released, and channel (never on a weekend)", fontsize=11)
    return fig


def _outcomes(runs: list[Summary]) -> Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [3, 2]})
    labels, rows = [], []
    for readiness in READINESS:
        for run in runs:
            labels.append(readiness if len(runs) == 1 else f"{readiness}\n{run.label}")
            rows.append(run.outcomes.get(readiness, {}))
    y = list(range(len(rows)))[::-1]
    lefts = [0.0] * len(rows)
    for outcome in (*DECISIONS, "undecided"):
        shares = [r.get(outcome, 0) / max(1, sum(r.values())) for r in rows]
        left.barh(y, shares, left=lefts, color=DECISION_COLORS[outcome], label=DECISION_LABELS[outcome])
        for yi, share, start, row in zip(y, shares, lefts, rows, strict=True):
            if share >= 0.06:
                left.text(start + share / 2, yi, f"{row.get(outcome, 0)}", ha="center", va="center", fontsize=7.5)
        lefts = [a + b for a, b in zip(lefts, shares, strict=True)]
    left.set_yticks(y, labels, fontsize=8)
    left.set_xlim(0, 1)
    left.xaxis.set_major_formatter(PercentFormatter(1.0))
    left.set_xlabel("share of cases (number of cases in the bars)")
    left.set_title("Decisions by readiness category", fontsize=10)
    left.legend(fontsize=7.5, loc="lower center", bbox_to_anchor=(0.5, 1.07), ncol=2)
    causes = sorted({c for run in runs for c in run.reasonable_causes})
    width = 0.8 / len(runs)
    for i, run in enumerate(runs):
        right.bar([x + i * width - 0.4 + width / 2 for x in range(len(causes))],
                  [run.reasonable_causes.get(c, 0) for c in causes], width=width, color=COLORS[i], label=run.label)
    right.set_xticks(range(len(causes)), [c.replace("_", " ") for c in causes], fontsize=8)
    right.set_ylabel("cases")
    right.yaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_title("Reasonable cause given by the citizen before the decision", fontsize=10)
    right.grid(axis="y", alpha=0.3)
    if len(runs) > 1:
        right.legend(fontsize=8)
    fig.tight_layout()
    return fig
