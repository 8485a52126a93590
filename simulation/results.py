"""One row a case: what the report needs, from what the case sent and what its citizen and caseworker did.

A row is built from three sources, none of which asks the worker anything (see simulation/engine.py): the
scripted case (readiness, Digital Post status, ...), the scenario driver's result (the tasks the case opened and
what became of every delivered event, decisions included) and the case's rows in the outbox (every letter, SMS,
e-mail, task escalation and payment notice, as sent). Rows hold no CPR number, name or address.

`results.jsonl` (one JSON object a line) is the machine-readable result of a run; `--compare-results` and the
report read it back, so a report can be rebuilt or compared without simulating again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from simulation.engine import Played

LETTER_KINDS = {"hearing_letter": "hearing", "decision_letter": "decision", "reassessment_letter": "reassessment"}
CONTACT_OUTCOMES = {"reached", "contact_made"}
CITIZEN_EVENTS = {"citizen_responded", "citizen_attended"}
SEED_TARGET_DAYS = {"jobparat": 12.0, "uddannelsesparat": 12.0, "aktivitetsparat": 20.0}
"""The upper end of the seeds' typical days from absence to decision (domain.md: 10–12 without an answer for
jobparat and uddannelsesparat, 19–20 for aktivitetsparat after the contact ladder): a case decided by then is
'on time'."""
SEED_RANGES = {"jobparat": (10.0, 12.0), "uddannelsesparat": (10.0, 12.0), "aktivitetsparat": (19.0, 20.0)}


class CaseRow(BaseModel):
    """One case's result. Times are the case's own (local) time; `*_day` are days since the absence."""

    name: str
    meeting_id: str
    readiness: str
    ground: str
    digital_post: str
    nemsms: bool
    representatives: int
    guidance_on_file: bool
    absence_at: datetime
    answered_day: float | None = None
    """When the citizen first answered or turned up before a decision (None: not before the decision)."""
    reasonable_cause: str | None = None
    deadline: str | None = None
    answered_in_time: bool | None = None
    contact_via: str | None = None
    decision: str | None = None
    decided_at: datetime | None = None
    decided_day: float | None = None
    on_time: bool | None = None
    refused: list[str] = []
    """Reasons the rules gave for refusing a decision (no personal data in them)."""
    tasks: list[tuple[str, str]] = []
    """(kind, opened at, ISO) of every caseworker task the case opened."""
    letters: list[tuple[str, str, str, str]] = []
    """(kind, channel, recipient, release day) of every letter: hearing, decision, reassessment."""
    sms: int = 0
    emails: int = 0
    escalations: int = 0
    payments: list[str] = []
    closed: bool = False
    failure: str | None = None


def row_for(played: Played) -> CaseRow:
    """Turn one played case into its row."""
    start = played.start
    citizen = start.citizen
    absence = start.occurred_at
    row = CaseRow(
        name=played.scenario.name, meeting_id=start.meeting_id, readiness=citizen.readiness.value,
        ground=start.ground.value, digital_post=citizen.digital_post.value, nemsms=citizen.nemsms,
        representatives=len(citizen.representatives), guidance_on_file=citizen.guidance_given_on is not None,
        absence_at=absence, closed=played.closed, failure=played.failure,
    )
    _from_outbox(row, played)
    if played.driver is None:
        return row
    row.tasks = [(t.kind, t.opened_at.isoformat()) for t in played.driver.tasks]
    for d in played.driver.deliveries:
        if d.at is None:
            continue
        day = round((d.at - absence).total_seconds() / 86400, 2)
        if d.task == "decision":
            if d.accepted and row.decision is None:
                row.decision, row.decided_at, row.decided_day = d.outcome, d.at, day
            elif not d.accepted and d.reason:
                row.refused.append(d.reason.removeprefix("decision refused: "))
            continue
        if not d.accepted or (row.decided_at is not None and d.at >= row.decided_at):
            continue
        if d.type in CITIZEN_EVENTS and row.answered_day is None:
            row.answered_day = day
            row.reasonable_cause = d.reasonable_cause
        if row.contact_via is None and (d.type in CITIZEN_EVENTS or d.outcome in CONTACT_OUTCOMES):
            row.contact_via = d.task or d.type
    if row.answered_day is not None and row.deadline is not None:
        answered_on = (absence + timedelta(days=row.answered_day)).date().isoformat()
        row.answered_in_time = answered_on <= row.deadline
    if row.decided_day is not None:
        row.on_time = row.decided_day <= SEED_TARGET_DAYS.get(row.readiness, 0.0)
    return row


def _from_outbox(row: CaseRow, played: Played) -> None:
    counts: Counter[str] = Counter()
    for sent in played.sent:
        counts[sent.kind] += 1
        if sent.kind in LETTER_KINDS:
            row.letters.append((LETTER_KINDS[sent.kind], sent.channel, sent.recipient,
                                sent.release_on.isoformat() if sent.release_on else ""))
            if sent.kind == "hearing_letter" and sent.recipient == "citizen" and row.deadline is None:
                row.deadline = sent.payload.get("deadline")
        elif sent.kind == "payment":
            row.payments.append(str(sent.payload.get("action", "")))
    row.sms = counts["sms"]
    row.emails = counts["email"]
    row.escalations = counts["task_escalation"]


# -- the results file ----------------------------------------------------------------------------------------------
RESULTS_FILE = "results.jsonl"


class ResultsWriter:
    """Appends rows to `results.jsonl` as they come, so a year of cases never sits in memory at once."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle = path.open("w", encoding="utf-8")
        self.count = 0

    def write(self, row: CaseRow) -> None:
        self._handle.write(row.model_dump_json(exclude_defaults=True) + "\n")
        self.count += 1

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class ResultsError(ValueError):
    """A results file that cannot be read back."""


def read_rows(path: Path) -> Iterator[CaseRow]:
    """The rows of a results file (or of `results.jsonl` in a report directory)."""
    if path.is_dir():
        path = path / RESULTS_FILE
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise ResultsError(f"cannot read results file {path}: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield CaseRow.model_validate_json(line)
                except ValueError as exc:
                    raise ResultsError(f"{path}:{number}: not a result row ({str(exc).splitlines()[0]})") from None
