"""Scenario files (contract.md): one case a line, with scripted citizen events and a simulated caseworker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.events import (
    CitizenAttended,
    CitizenResponded,
    ContactRestored,
    MeetingMissed,
    TaskCompleted,
    describe_validation_error,
    parse_event,
)


class CaseworkerScript(BaseModel):
    """What the simulated caseworker answers for each task, in order; `hours` working hours after it opens."""

    model_config = ConfigDict(extra="forbid")

    phone_call: list[Literal["no_answer", "voicemail", "reached"]] = []
    representative: list[Literal["no_contact", "contact_made"]] = []
    home_visit: list[Literal["no_contact", "contact_made"]] = []
    decision: Literal["sanction", "no_sanction_reasonable_cause", "no_sanction_other"] = "sanction"
    reassessment: list[Literal["uphold", "annul"]] = []
    hours: float = Field(default=2.0, ge=0, le=200)
    if_refused: Literal["no_sanction_reasonable_cause", "no_sanction_other"] | None = None
    """The decision the caseworker makes instead when the rules refuse `decision` (a sanction the policy does not
    allow for the citizen's category, no § 35 guidance on file); None: the refusal stands, the task stays open.
    Generated populations set it, so one population can be played under policies that allow different things."""

    def outcome(self, kind: str, index: int) -> str:
        """The outcome for the `index`-th task of `kind` (0-based); defaults when the list runs out."""
        if kind == "decision":
            return self.decision
        listed: list[str] = list(getattr(self, kind))
        if index < len(listed):
            return listed[index]
        return {"phone_call": "no_answer", "reassessment": "uphold"}.get(kind, "no_contact")


class ScenarioEvent(BaseModel):
    """A scripted event: `day` after the absence, the event's type and its own fields."""

    model_config = ConfigDict(extra="allow")

    day: float = Field(ge=0, le=400)
    type: Literal["citizen_responded", "citizen_attended", "contact_restored", "decision", "task_completed"]


class ScenarioCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    case: dict[str, Any]
    events: list[ScenarioEvent] = []
    caseworker: CaseworkerScript = CaseworkerScript()


class TimedEvent(BaseModel):
    """A scripted event made concrete: when, and the full contract event to deliver."""

    at: datetime
    update: Literal["citizen_event", "complete_task"]
    event: dict[str, Any]


class ScenarioError(ValueError):
    """A scenario line that cannot be played; the message names the line and the field."""


Prepared = tuple[ScenarioCase, MeetingMissed, list[TimedEvent]]
"""A case ready to play: the scenario, its validated start event, its scripted events in time order."""


def load_scenarios(path: Path) -> list[Prepared]:
    """Read and validate every case of a scenario file, turning scripted events into contract events."""
    cases = list(iter_scenarios(path))
    if not cases:
        raise ScenarioError(f"{path}: no scenario cases")
    return cases


def iter_scenarios(path: Path) -> Iterator[Prepared]:
    """The cases of a scenario file one at a time (a year of cases need not be in memory at once)."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario file {path}: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                scenario = ScenarioCase.model_validate_json(line)
            except ValidationError as exc:
                raise ScenarioError(f"{path}:{number}: {describe_validation_error(exc, skip_prefix=0)}") from None
            yield prepare(scenario, f"{path}:{number}")


def prepare(scenario: ScenarioCase, where: str) -> Prepared:
    """Validate a scenario's start event and make its scripted events concrete; `where` names it in errors."""
    try:
        start = parse_event(json.dumps(scenario.case))
    except ValueError as exc:
        raise ScenarioError(f"{where}: case: {exc}") from None
    if not isinstance(start, MeetingMissed):
        raise ScenarioError(f"{where}: case: must be a meeting_missed event")
    timed = [_timed(scenario, start, i, ev, where) for i, ev in enumerate(scenario.events)]
    return scenario, start, sorted(timed, key=lambda t: t.at)


def scenario_line(scenario: ScenarioCase) -> str:
    """One line of a scenario file (contract.md), as `load_scenarios` reads it back."""
    return scenario.model_dump_json(exclude_defaults=True)


def _timed(scenario: ScenarioCase, start: MeetingMissed, index: int, ev: ScenarioEvent, where: str) -> TimedEvent:
    at = start.occurred_at + timedelta(days=ev.day)
    fields = dict(ev.model_extra or {})
    base = {"event_id": f"{scenario.name}/event/{index + 1}", "occurred_at": at.isoformat(),
            "meeting_id": start.meeting_id}
    if ev.type == "decision":
        body = {"type": "task_completed", "task": "decision", "outcome": fields.pop("decision", "sanction"),
                "by": "scenario", **fields}
    else:
        body = {"type": ev.type, **fields}
    try:
        event = parse_event(json.dumps({**base, **body}))
    except ValueError as exc:
        raise ScenarioError(f"{where}: events[{index}]: {exc}") from None
    update: Literal["citizen_event", "complete_task"] = (
        "complete_task" if isinstance(event, TaskCompleted) else "citizen_event"
    )
    assert isinstance(event, TaskCompleted | CitizenResponded | CitizenAttended | ContactRestored)
    return TimedEvent(at=at, update=update, event=event.model_dump(mode="json"))
