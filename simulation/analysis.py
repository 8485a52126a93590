"""The figures a report shows, computed from result rows in one pass (a year of rows never needs sorting twice).

Everything here is plain counting over `CaseRow`s, so the tests can check the report's numbers against the rows
themselves. `summary.json` in a report directory is this model.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from pydantic import BaseModel

from simulation.results import SEED_RANGES, SEED_TARGET_DAYS, CaseRow

READINESS = ("jobparat", "uddannelsesparat", "aktivitetsparat")
DECISIONS = ("sanction", "no_sanction_reasonable_cause", "no_sanction_other")
WORKLOAD_KINDS = ("phone_call", "representative", "home_visit", "decision", "reassessment", "manual_delivery")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class DecisionDays(BaseModel):
    """Days from absence to decision for one readiness category."""

    readiness: str
    cases: int
    decided: int
    median: float | None
    p90: float | None
    on_time: int
    """Decided within the seeds' upper bound (`target_days`)."""
    seeds: tuple[float, float]
    target_days: float
    days: list[float]
    """Every decided case's days, for the distribution chart."""

    @property
    def on_time_share(self) -> float:
        return self.on_time / self.cases if self.cases else 0.0


class WaitGroup(BaseModel):
    """Days to decision for one group of decided cases: who waits longest, and why."""

    readiness: str
    """`jobparat, uddannelsesparat` (decided alike) or `aktivitetsparat`."""
    who: str
    cases: int
    median: float | None
    p90: float | None
    beyond: int
    """Decided after the seeds' upper bound for the category."""


WAIT_GROUPS = (
    ("jobparat, uddannelsesparat", "answered before the decision"),
    ("jobparat, uddannelsesparat", "no answer, Digital Post"),
    ("jobparat, uddannelsesparat", "no answer, paper post (exempt)"),
    ("jobparat, uddannelsesparat", "no answer, never logged in to Digital Post"),
    ("aktivitetsparat", "answered or turned up before the decision"),
    ("aktivitetsparat", "no answer, reached by phone"),
    ("aktivitetsparat", "no answer, reached through a representative"),
    ("aktivitetsparat", "no answer, reached at the home visit"),
    ("aktivitetsparat", "no answer, no contact (ladder exhausted)"),
)
_POST = {"registered": "Digital Post", "exempt": "paper post (exempt)",
         "never_logged_in": "never logged in to Digital Post"}
_REACHED = {"phone_call": "reached by phone", "representative": "reached through a representative",
            "home_visit": "reached at the home visit"}


def wait_group(row: CaseRow) -> tuple[str, str] | None:
    """The group a decided case falls in (None: undecided, or a group the report does not show)."""
    if row.decided_day is None:
        return None
    if row.readiness != "aktivitetsparat":
        if row.answered_day is not None:
            return WAIT_GROUPS[0]
        return ("jobparat, uddannelsesparat", f"no answer, {_POST[row.digital_post]}") if (
            row.digital_post in _POST) else None
    if row.answered_day is not None:
        return WAIT_GROUPS[4]
    if row.contact_via is None:
        return WAIT_GROUPS[8]
    return ("aktivitetsparat", f"no answer, {_REACHED[row.contact_via]}") if row.contact_via in _REACHED else None


class Summary(BaseModel):
    label: str
    cases: int
    failed: int
    first_absence: date | None
    last_absence: date | None
    decision_days: list[DecisionDays]
    outcomes: dict[str, dict[str, int]]
    """readiness -> decision (or `undecided`) -> cases."""
    reasonable_causes: dict[str, int]
    """The reasonable cause the citizen gave (answer before the decision), by code."""
    refusals: dict[str, int]
    """Decisions the rules refused, by reason (dates taken out)."""
    answered: int
    answered_in_time: int
    tasks_by_week: dict[str, dict[str, int]]
    """ISO week's Monday (YYYY-MM-DD) -> task kind -> tasks opened that week."""
    tasks_by_month: dict[str, dict[str, int]]
    letters_by_weekday: dict[str, dict[str, int]]
    """channel -> weekday (Mon..Sun) -> letters released that day (hearing, decision, reassessment)."""
    letters_by_kind: dict[str, dict[str, int]]
    """letter kind -> channel -> letters."""
    sms: int
    emails: int
    escalations: int
    deductions_started: int
    deductions_reversed: int
    waits: list[WaitGroup] = []
    """Days to decision by who the citizen is and how contact came about, in `WAIT_GROUPS` order."""

    @property
    def decided(self) -> int:
        return sum(d.decided for d in self.decision_days)

    @property
    def on_time(self) -> int:
        return sum(d.on_time for d in self.decision_days)

    def task_total(self, kind: str) -> int:
        return sum(week.get(kind, 0) for week in self.tasks_by_week.values())


def percentile(values: list[float], share: float) -> float | None:
    """The `share` quantile (nearest rank, as a caseworker would count it): 90 % of cases took at most this."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(-(-share * len(ordered) // 1)))  # ceil
    return ordered[min(rank, len(ordered)) - 1]


def _monday(moment: datetime) -> str:
    day = moment.date()
    return (day - timedelta(days=day.weekday())).isoformat()


def _reason(text: str) -> str:
    """A refusal reason without its dates and counts, so equal reasons count together."""
    return re.sub(r"\d{4}-\d\d-\d\d", "…", re.sub(r"\(rung .*?\)", "(…)", text))


def summarize(rows: Iterable[CaseRow], label: str) -> Summary:
    """All the report's figures for one run."""
    days: dict[str, list[float]] = {r: [] for r in READINESS}
    counts: Counter[str] = Counter()
    on_time: Counter[str] = Counter()
    outcomes: dict[str, Counter[str]] = {r: Counter() for r in READINESS}
    causes: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    weeks: dict[str, Counter[str]] = {}
    months: dict[str, Counter[str]] = {}
    letters: dict[str, Counter[str]] = {}
    letter_kinds: dict[str, Counter[str]] = {}
    totals: Counter[str] = Counter()
    first: date | None = None
    last: date | None = None
    grouped: dict[tuple[str, str], list[float]] = {g: [] for g in WAIT_GROUPS}
    for row in rows:
        totals["cases"] += 1
        counts[row.readiness] += 1
        day = row.absence_at.date()
        first = day if first is None or day < first else first
        last = day if last is None or day > last else last
        if row.failure:
            totals["failed"] += 1
        outcomes.setdefault(row.readiness, Counter())[row.decision or "undecided"] += 1
        if row.decided_day is not None:
            days.setdefault(row.readiness, []).append(row.decided_day)
            group = wait_group(row)
            if group is not None:
                grouped[group].append(row.decided_day)
            on_time[row.readiness] += bool(row.on_time)
        if row.reasonable_cause:
            causes[row.reasonable_cause] += 1
        for reason in row.refused:
            refusals[_reason(reason)] += 1
        if row.answered_day is not None:
            totals["answered"] += 1
            totals["answered_in_time"] += bool(row.answered_in_time)
        for kind, opened in row.tasks:
            moment = datetime.fromisoformat(opened)
            weeks.setdefault(_monday(moment), Counter())[kind] += 1
            months.setdefault(moment.strftime("%Y-%m"), Counter())[kind] += 1
        for kind, channel, _to, release in row.letters:
            letter_kinds.setdefault(kind, Counter())[channel] += 1
            if release:
                weekday = WEEKDAYS[date.fromisoformat(release).weekday()]
                letters.setdefault(channel, Counter())[weekday] += 1
        totals["sms"] += row.sms
        totals["emails"] += row.emails
        totals["escalations"] += row.escalations
        totals["deductions_started"] += row.payments.count("deduction_start")
        totals["deductions_reversed"] += row.payments.count("reversal")
    per_readiness = [
        DecisionDays(readiness=r, cases=counts[r], decided=len(days.get(r, [])),
                     median=statistics.median(days[r]) if days.get(r) else None, p90=percentile(days.get(r, []), 0.9),
                     on_time=on_time[r], seeds=SEED_RANGES[r], target_days=SEED_TARGET_DAYS[r],
                     days=sorted(days.get(r, [])))
        for r in READINESS
    ]
    return Summary(
        label=label, cases=totals["cases"], failed=totals["failed"], first_absence=first, last_absence=last,
        decision_days=per_readiness,
        outcomes={r: dict(c) for r, c in outcomes.items()},
        reasonable_causes=dict(causes.most_common()), refusals=dict(refusals.most_common()),
        answered=totals["answered"], answered_in_time=totals["answered_in_time"],
        tasks_by_week={w: dict(c) for w, c in sorted(weeks.items())},
        tasks_by_month={m: dict(c) for m, c in sorted(months.items())},
        letters_by_weekday={ch: dict(c) for ch, c in sorted(letters.items())},
        letters_by_kind={k: dict(c) for k, c in sorted(letter_kinds.items())},
        sms=totals["sms"], emails=totals["emails"], escalations=totals["escalations"],
        deductions_started=totals["deductions_started"], deductions_reversed=totals["deductions_reversed"],
        waits=[_wait(readiness, who, grouped[(readiness, who)]) for readiness, who in WAIT_GROUPS],
    )


def _wait(readiness: str, who: str, days: list[float]) -> WaitGroup:
    target = SEED_TARGET_DAYS["aktivitetsparat" if readiness == "aktivitetsparat" else "jobparat"]
    return WaitGroup(readiness=readiness, who=who, cases=len(days),
                     median=statistics.median(days) if days else None, p90=percentile(days, 0.9),
                     beyond=sum(1 for d in days if d > target))
