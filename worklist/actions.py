"""`starter.py task done|assign|claim|release`: a caseworker acts on one task of one case.

Each command builds the same event a jobcenter system would send (`task_completed`, `task_assigned`) and
delivers it through the intake's gateway, so the CLI, the events file and the HTTP intake share one path:
the same validation, the same update, the same refusals in the same words.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from domain.events import TaskAssigned, TaskCompleted, describe_validation_error
from intake.gateway import Outcome

EVENT_ID_PREFIX = "worklist/"


class ActionError(ValueError):
    """The command's arguments do not make a valid event (names the field, never echoes personal data)."""


@dataclass(frozen=True, slots=True)
class TaskAction:
    """One caseworker command, before it becomes an event."""

    meeting_id: str
    kind: str
    by: str | None = None

    def _base(self, type_: str) -> dict[str, Any]:
        return {"event_id": f"{EVENT_ID_PREFIX}{uuid.uuid4()}", "type": type_,
                "occurred_at": datetime.now(UTC).isoformat(), "meeting_id": self.meeting_id, "task": self.kind,
                "by": self.by}

    def completion(self, outcome: str, note: str | None = None) -> TaskCompleted:
        return _build(TaskCompleted, {**self._base("task_completed"), "outcome": outcome, "note": note})

    def assignment(self, assignee: str | None) -> TaskAssigned:
        return _build(TaskAssigned, {**self._base("task_assigned"), "assignee": assignee})


M = TypeVar("M", TaskCompleted, TaskAssigned)


def _build(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ActionError(describe_validation_error(exc, skip_prefix=0).replace("event: Value error, ", "")) from None


def describe(outcome: Outcome, event: TaskCompleted | TaskAssigned) -> str:
    """One line for the caseworker: what happened to their command."""
    what = (f"{event.task.value} → {event.outcome}" if isinstance(event, TaskCompleted)
            else f"{event.task.value} assigned to {event.assignee}" if event.assignee
            else f"{event.task.value} back to the team's queue")
    if outcome.kind == "delivered":
        return f"meeting {event.meeting_id}: {what}: recorded"
    reason = outcome.reason.removeprefix("decision refused: ")
    return f"meeting {event.meeting_id}: {what}: {outcome.kind}: {reason}"
