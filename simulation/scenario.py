"""Scenario files (contract.md): one case a line, with scripted citizen events and a simulated caseworker."""

from __future__ import annotations

import json
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


def load_scenarios(path: Path) -> list[tuple[ScenarioCase, MeetingMissed, list[TimedEvent]]]:
    """Read and validate every case of a scenario file, turning scripted events into contract events."""
    cases = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario file {path}: {exc.strerror}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            scenario = ScenarioCase.model_validate_json(line)
        except ValidationError as exc:
            raise ScenarioError(f"{path}:{number}: {describe_validation_error(exc, skip_prefix=0)}") from None
        try:
            start = parse_event(json.dumps(scenario.case))
        except ValueError as exc:
            raise ScenarioError(f"{path}:{number}: case: {exc}") from None
        if not isinstance(start, MeetingMissed):
            raise ScenarioError(f"{path}:{number}: case: must be a meeting_missed event")
        timed = [_timed(scenario, start, i, ev, f"{path}:{number}") for i, ev in enumerate(scenario.events)]
        cases.append((scenario, start, sorted(timed, key=lambda t: t.at)))
    if not cases:
        raise ScenarioError(f"{path}: no scenario cases")
    return cases


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
