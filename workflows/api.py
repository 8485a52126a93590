"""What callers of a case workflow rely on: its id, task queue, inputs, update and query models.

Starters, the simulator, the worklist and tests import from here, never from the workflow module itself, so
the workflow can change without touching its callers.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from domain.case import CaseState
from domain.events import CitizenAttended, CitizenResponded, ContactRestored, MeetingMissed
from domain.policy import PolicySnapshot

TASK_QUEUE = "missed-meetings"
WORKFLOW_TYPE = "MissedMeetingWorkflow"
WORKFLOW_ID_PREFIX = "missed-meeting-"

# Error types carried by ApplicationError from update validators and handlers.
DUPLICATE_EVENT = "DuplicateEvent"
CASE_CLOSED = "CaseClosed"
TASK_NOT_OPEN = "TaskNotOpen"
DECISION_REFUSED = "DecisionRefused"


def workflow_id_for(meeting_id: str) -> str:
    """One case workflow per missed meeting; the id holds the meeting id and never personal data."""
    return f"{WORKFLOW_ID_PREFIX}{meeting_id}"


def clock_offset(server_now: datetime, occurred_at: datetime) -> float:
    """Simulation: whole seconds the case's clock lies behind the server's, so the case starts at its absence
    (floored, never rounded: a case clock before the absence would make `now` precede the event)."""
    return float(math.floor((server_now - occurred_at).total_seconds()))


class CaseInput(BaseModel):
    """Workflow input: the triggering event and the policy the case lives by."""

    case: MeetingMissed
    policy: PolicySnapshot
    clock_offset_seconds: float = 0.0
    """Simulation only: how far the case's own clock lies behind the server's (0 in production)."""
    state: CaseState | None = None
    """Set when the case continues as new: the state so far, journal included."""


class CitizenEventInput(BaseModel):
    event: Annotated[CitizenResponded | CitizenAttended | ContactRestored, Field(discriminator="type")]


class EventAck(BaseModel):
    event_id: str
    stage: str
    message: str = "accepted"


class Outcome(BaseModel):
    decision: str
    decided_at: datetime
    decided_day: float


class Timeline(BaseModel):
    """The journal in the contract's format (`steps`), as the `timeline` query returns it."""

    meeting_id: str
    workflow_id: str
    steps: list[dict[str, Any]]
    outcome: Outcome | None = None


class OpenTaskView(BaseModel):
    kind: str
    key: str
    opened_at: datetime
    attempt: int
    role: str | None = None
    due_at: datetime | None = None
    assignee: str | None = None
    escalated_to: str | None = None
    """The last escalation step taken for it (`assignee` reminded, `team_lead` told), if overdue."""


class CaseStatus(BaseModel):
    """A snapshot for worklists and the simulator: stage, open tasks, what the case waits for and until when."""

    meeting_id: str
    case_id: str
    stage: str
    now: datetime
    deadline: date | None = None
    open_tasks: list[OpenTaskView] = []
    waiting_for: str = ""
    wake_at: datetime | None = None
    decision: str | None = None
    closed: bool = False
    clock_offset_seconds: float = 0.0
    """Simulation and tests: how far the case's clock lies behind the server's. `now` is the case's time at its
    last step (a query does not advance it); a caller's own now, less this, is the case's time (worklist)."""


class CaseResult(BaseModel):
    meeting_id: str
    decision: str | None = None
    decided_at: datetime | None = None
    closed_at: datetime | None = None
