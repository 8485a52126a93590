"""`report.md`: the figures of one simulated run, or two side by side, with the charts and how they were made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from simulation.analysis import DECISIONS, READINESS, WEEKDAYS, WORKLOAD_KINDS, Summary
from simulation.charts import CHANNEL_LABELS, DECISION_LABELS, KIND_LABELS, write_charts

REPORT_FILE = "report.md"


@dataclass
class RunFacts:
    """How one run was made and how fast it went (unknown when a report is rebuilt from results files)."""

    label: str
    policy_file: str | None = None
    seconds: float | None = None
    peak_rss_mb: float | None = None
    server_rss_mb: float | None = None
    outbox: str | None = None
    cases: int = 0
    """Cases played (written to the results file)."""

    def rate(self, cases: int) -> float | None:
        return cases / self.seconds if self.seconds else None


@dataclass
class ReportMeta:
    command: str
    population: str | None = None
    seed: int | None = None
    runs: list[RunFacts] = field(default_factory=list)
    ceiling: dict[str, float] = field(default_factory=dict)
    """Trivial-workflow ceiling measured in the same process right after the runs: 'sandboxed'/'unsandboxed'."""
    sandbox: bool = False
    notes: list[str] = field(default_factory=list)


def _n(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "–"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return [*lines, ""]


def _per_run(runs: list[Summary], name: str, value: Callable[[Summary], str]) -> list[str]:
    return [name, *(value(r) for r in runs)]


def write_report(runs: list[Summary], directory: Path, meta: ReportMeta) -> Path:
    """Charts and `report.md` in `directory`; returns the report's path."""
    charts = write_charts(runs, directory)
    heads = [r.label for r in runs]
    out: list[str] = []
    title = "Missed meetings, simulated" + (f": {heads[0]} compared with {heads[1]}" if len(runs) > 1 else "")
    out += [f"# {title}", ""]
    out += _intro(runs, meta)
    out += _decision_section(runs, charts)
    out += _workload_section(runs, charts)
    out += _letters_section(runs, charts)
    out += _outcome_section(runs, charts)
    out += _method_section(meta)
    path = directory / REPORT_FILE
    path.write_text("\n".join(out).rstrip() + "\n", encoding="utf-8")
    return path


def _intro(runs: list[Summary], meta: ReportMeta) -> list[str]:
    first = runs[0]
    period = f"{first.first_absence} to {first.last_absence}" if first.first_absence else "–"
    out = [f"Made with `{meta.command}`.", ""]
    out += [f"{first.cases:,} missed meetings (absences from {period}"
            + (f", population `{meta.population}`, seed {meta.seed}" if meta.population else "")
            + ") played through the real case workflow and its activities on Temporal's time-skipping test "
              "server, a scripted citizen and caseworker beside each case. The population is synthetic: no real "
              "person's data, and its rates are assumptions (see the population file) until replaced by the "
              "jobcenter's own figures.", ""]
    rows = [_per_run(runs, "policy", lambda r: next((f"{f.label} (`{f.policy_file}`)" for f in meta.runs
                                                      if f.label == r.label and f.policy_file), r.label)),
            _per_run(runs, "cases", lambda r: f"{r.cases:,}"),
            _per_run(runs, "cases that failed to run", lambda r: f"{r.failed:,}")]
    facts = {f.label: f for f in meta.runs}
    if any(f.seconds for f in meta.runs):
        rows.append(_per_run(runs, "simulated in", lambda r: _speed(facts.get(r.label), r.cases)))
        rows.append(_per_run(runs, "peak memory (simulator / test server)",
                             lambda r: _memory(facts.get(r.label))))
    out += _table(["", *(r.label for r in runs)], rows)
    if meta.ceiling:
        parts = [f"{k} {v:.1f}/s" for k, v in meta.ceiling.items()]
        out += [f"Ceiling on this machine in the same process (a trivial workflow with four one-day timers, "
                f"started and played the way the cases are): {', '.join(parts)}.", ""]
        mode = "sandboxed" if meta.sandbox else "unsandboxed"
        ceiling = meta.ceiling.get(mode)
        ratios = [f"{r.label} {rate / ceiling:.2f}" for r in runs
                  if ceiling and (rate := (facts[r.label].rate(r.cases) if r.label in facts else None))]
        if ratios:
            out += [f"Cases per second as a share of the {mode} ceiling (the mode the cases ran in): "
                    f"{', '.join(ratios)}. A case is two workflows (the case and its scenario driver) with "
                    "its letters, tasks, timers and updates, several times the trivial workflow's work.", ""]
    return out


def _speed(facts: RunFacts | None, cases: int) -> str:
    if facts is None or not facts.seconds:
        return "–"
    return f"{facts.seconds:,.0f} s ({facts.rate(cases):.1f} cases/s)"


def _memory(facts: RunFacts | None) -> str:
    if facts is None or facts.peak_rss_mb is None:
        return "–"
    server = f" / {facts.server_rss_mb:,.0f} MB" if facts.server_rss_mb else ""
    return f"{facts.peak_rss_mb:,.0f} MB{server}"


def _decision_section(runs: list[Summary], charts: dict[str, str]) -> list[str]:
    chart = charts["Days from absence to decision"]
    out = ["## How long citizens wait for a decision", "", f"![days from absence to decision]({chart})", ""]
    compare = len(runs) > 1
    header = ["readiness", "seeds (days)", *(["policy"] if compare else []), "decided", "median days",
              "90th percentile", "decided on time"]
    rows = []
    for i, readiness in enumerate(READINESS):
        seeds = runs[0].decision_days[i].seeds
        for r in runs:
            d = r.decision_days[i]
            rows.append([readiness, f"{seeds[0]:.0f}–{seeds[1]:.0f}", *([r.label] if compare else []),
                         f"{d.decided:,} of {d.cases:,}", _n(d.median, 1), _n(d.p90, 1), _pct(d.on_time, d.cases)])
    for r in runs:
        rows.append(["all", "", *([r.label] if compare else []), f"{r.decided:,} of {r.cases:,}", "", "",
                     _pct(r.on_time, r.cases)])
    out += _table(header, rows)
    out += ["Days are counted from the missed meeting to the caseworker's decision. *On time*: decided within the "
            "upper end of the seeds' range for the category (12 days for jobparat and uddannelsesparat without an "
            "answer, 20 for aktivitetsparat after the contact ladder); a citizen who answers is decided sooner. "
            "A case still undecided when it is last looked at (45 days after the absence at least) counts as "
            "not on time.", ""]
    out += _waits_table(runs)
    answered = [_per_run(runs, "answered or turned up before the decision",
                         lambda r: f"{r.answered:,} ({_pct(r.answered, r.cases)})"),
                _per_run(runs, "of them within the answer deadline", lambda r: f"{r.answered_in_time:,}")]
    out += _table(["", *(r.label for r in runs)], answered)
    return out


def _waits_table(runs: list[Summary]) -> list[str]:
    """Who waits longest: decided cases by category, answer, Digital Post status and how contact came about."""
    if not all(r.waits for r in runs):
        return []
    compare = len(runs) > 1
    header = ["readiness", "citizen", *(["policy"] if compare else []), "decided", "median days",
              "90th percentile", "beyond the seeds' range"]
    rows = []
    for i, first in enumerate(runs[0].waits):
        for r in runs:
            w = r.waits[i]
            if w.cases:
                rows.append([first.readiness, first.who, *([r.label] if compare else []), f"{w.cases:,}",
                             _n(w.median, 1), _n(w.p90, 1), _pct(w.beyond, w.cases)])
    return ["Who waits longest (decided cases; *beyond*: later than 12 days, 20 for aktivitetsparat):", "",
            *_table(header, rows)]


def _workload_section(runs: list[Summary], charts: dict[str, str]) -> list[str]:
    chart = charts["Caseworkers' tasks per week"]
    out = ["## Caseworkers' workload", "", f"![tasks per week]({chart})", ""]
    kinds = [k for k in WORKLOAD_KINDS if any(r.task_total(k) for r in runs)]
    header = ["task"]
    for r in runs:
        suffix = f" ({r.label})" if len(runs) > 1 else ""
        header += [f"total{suffix}", f"per week{suffix}", f"busiest week{suffix}"]
    rows = []
    for kind in kinds:
        row = [KIND_LABELS[kind]]
        for r in runs:
            per_week = [w.get(kind, 0) for w in _full_weeks(r)]
            row += [f"{r.task_total(kind):,}", _n(sum(per_week) / len(per_week) if per_week else None, 1),
                    f"{max(per_week, default=0):,}"]
        rows.append(row)
    out += _table(header, rows)
    out += ["*Per week*: the mean over the weeks whose absences all lie inside the simulated period (the first "
            "and last weeks are partial). A task is counted in the week it opens. Overdue tasks escalated "
            f"(reminders to the assignee or the team lead): {', '.join(f'{r.escalations:,}' for r in runs)}.", ""]
    months = sorted({m for r in runs for m in r.tasks_by_month})
    focus = [k for k in ("home_visit", "phone_call", "decision") if k in kinds]
    header = ["month"] + [f"{KIND_LABELS[k]}" + (f" ({r.label})" if len(runs) > 1 else "")
                          for k in focus for r in runs]
    rows = [[m] + [f"{r.tasks_by_month.get(m, {}).get(k, 0):,}" for k in focus for r in runs] for m in months]
    rows = [row for row in rows if any(cell != "0" for cell in row[1:])]  # a tail month of reassessments only
    out += ["Tasks opened by month:", "", *_table(header, rows)]
    return out


def _full_weeks(run: Summary) -> list[dict[str, int]]:
    """Weekly counts without the ramp-up first week and the tail after the last absence."""
    if run.first_absence is None or run.last_absence is None:
        return list(run.tasks_by_week.values())
    first, last = run.first_absence.isoformat(), run.last_absence.isoformat()
    weeks = [w for w in run.tasks_by_week if first <= w <= last]
    return [run.tasks_by_week[w] for w in weeks[1:-1]] or list(run.tasks_by_week.values())


def _letters_section(runs: list[Summary], charts: dict[str, str]) -> list[str]:
    out = ["## Letters", "", f"![letters by weekday]({charts['Letters by weekday and channel']})", ""]
    channels = sorted({c for r in runs for k in r.letters_by_kind.values() for c in k})
    header = ["letter", *(f"{CHANNEL_LABELS.get(c, c)}" + (f" ({r.label})" if len(runs) > 1 else "")
                          for c in channels for r in runs)]
    kinds = sorted({k for r in runs for k in r.letters_by_kind})
    rows = [[k, *(f"{r.letters_by_kind.get(k, {}).get(c, 0):,}" for c in channels for r in runs)] for k in kinds]
    out += _table(header, rows)
    weekend = [sum(r.letters_by_weekday.get(c, {}).get(d, 0) for c in r.letters_by_weekday for d in WEEKDAYS[5:])
               for r in runs]
    out += [f"Letters released on a Saturday or Sunday: {', '.join(str(w) for w in weekend)} (the rule: never). "
            f"NemSMS sent: {', '.join(f'{r.sms:,}' for r in runs)}; e-mails to citizens: "
            f"{', '.join(f'{r.emails:,}' for r in runs)}.", ""]
    return out


def _outcome_section(runs: list[Summary], charts: dict[str, str]) -> list[str]:
    out = ["## Decisions, sanctions and reasonable causes", "",
           f"![decisions]({charts['Decisions and reasonable causes']})", ""]
    header = ["readiness", *(DECISION_LABELS[d] + (f" ({r.label})" if len(runs) > 1 else "")
                             for d in (*DECISIONS, "undecided") for r in runs)]
    rows = []
    for readiness in READINESS:
        rows.append([readiness, *(f"{r.outcomes.get(readiness, {}).get(d, 0):,}"
                                  for d in (*DECISIONS, "undecided") for r in runs)])
    out += _table(header, rows)
    causes = sorted({c for r in runs for c in r.reasonable_causes})
    if causes:
        out += ["Reasonable causes the citizens gave before the decision:", ""]
        out += _table(["cause", *(r.label for r in runs)],
                      [[c, *(f"{r.reasonable_causes.get(c, 0):,}" for r in runs)] for c in causes])
    reasons = sorted({c for r in runs for c in r.refusals}, key=lambda c: -max(r.refusals.get(c, 0) for r in runs))
    if reasons:
        out += ["Decisions the rules refused (the simulated caseworker then decided no sanction instead):", ""]
        out += _table(["reason", *(r.label for r in runs)],
                      [[c, *(f"{r.refusals.get(c, 0):,}" for r in runs)] for c in reasons])
    out += _table(["payments", *(r.label for r in runs)],
                  [_per_run(runs, "deductions started", lambda r: f"{r.deductions_started:,}"),
                   _per_run(runs, "deductions reversed after an annulment", lambda r: f"{r.deductions_reversed:,}")])
    return out


def _method_section(meta: ReportMeta) -> list[str]:
    out = ["## How this was made", ""]
    out += [
        "- Every case is the real `MissedMeetingWorkflow` with its real activities (letters, MeMo, the SQLite "
        "outbox), each on its own clock offset so it lives on its own calendar dates (holidays, office hours).",
        "- A scenario driver beside each case answers every caseworker task a number of working hours after it "
        "opens (drawn per case) with the outcomes the population drew (phone answered, at home, ...), decides "
        "as drawn, and delivers the citizen's answer, turning up or return on the drawn days. A decision the "
        "rules refuse (a sanction the policy does not allow, no § 35 guidance) is followed at once by a "
        "no-sanction decision, as a caseworker would.",
        "- Figures come from what the cases sent (the outbox: letters, tasks, NemSMS, payments) and what the "
        "driver saw happen (decisions, refusals, answers); cases are followed to 45 days after the absence, or "
        "30 days after their last scripted event.",
        f"- Workflows ran {'in' if meta.sandbox else 'without'} the SDK's sandbox; payloads unencrypted "
        "(synthetic data on a throwaway in-memory server).",
        *[f"- {n}" for n in meta.notes],
    ]
    return [*out, ""]
