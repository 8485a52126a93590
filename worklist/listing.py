"""`starter.py tasks`: the caseworkers' open tasks, straight from Temporal (no second database to drift).

Visibility narrows the search with the cases' search attributes (`PendingTasks`, `AssignedTo`, `TaskDue`);
each case found is then asked for its `status`, which holds every open task with its due time, assignee and
escalation, and the case's clock offset (zero in production; simulations and tests run cases on their own
calendar dates), so "overdue" means the same to the worklist as to the escalation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from workflows.api import WORKFLOW_ID_PREFIX, WORKFLOW_TYPE, CaseStatus

QUERY_CONCURRENCY = 16
"""Status queries in flight at once: enough to list a team's tasks quickly, few enough to spare the server."""


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """What a caseworker or team lead asks for. Empty: every open task."""

    kind: str | None = None
    assignee: str | None = None
    unassigned: bool = False
    overdue: bool = False
    escalated: bool = False

    def visibility_query(self, now: datetime | None = None) -> str:
        """The server-side part of the filter; the rest is checked task by task."""
        parts = [f'WorkflowType = "{WORKFLOW_TYPE}"', 'ExecutionStatus = "Running"', "PendingTasks IS NOT NULL"]
        if self.kind:
            parts.append(f'PendingTasks = "{_quoted(self.kind)}"')
        if self.assignee:
            parts.append(f'AssignedTo = "{_quoted(self.assignee)}"')
        if self.overdue and now is not None:
            parts.append(f'TaskDue < "{now.isoformat()}"')
        if self.escalated:
            parts.append("Escalation IS NOT NULL")
        return " AND ".join(parts)

    def accepts(self, row: TaskRow) -> bool:
        return (
            (self.kind is None or row.kind == self.kind)
            and (self.assignee is None or row.assignee == self.assignee)
            and (not self.unassigned or row.assignee is None)
            and (not self.overdue or row.overdue is not None)
            and (not self.escalated or row.escalated_to is not None)
        )


@dataclass(frozen=True, slots=True)
class TaskRow:
    """One open task as a worklist shows it."""

    meeting_id: str
    case_id: str
    stage: str
    kind: str
    role: str | None
    attempt: int
    opened_at: datetime
    due_at: datetime | None
    assignee: str | None
    escalated_to: str | None
    case_now: datetime
    """The case's time when listed (the caller's now, on the case's clock)."""

    @property
    def overdue(self) -> timedelta | None:
        """How long past its due time, by the case's clock; None if not (yet) overdue."""
        if self.due_at is None or self.case_now <= self.due_at:
            return None
        return self.case_now - self.due_at

    def as_json(self) -> dict[str, object]:
        overdue = self.overdue
        return {
            "meeting_id": self.meeting_id, "case_id": self.case_id, "stage": self.stage, "task": self.kind,
            "role": self.role, "attempt": self.attempt, "opened_at": self.opened_at.isoformat(),
            "due_at": self.due_at.isoformat() if self.due_at else None, "assignee": self.assignee,
            "escalated_to": self.escalated_to,
            "overdue_hours": round(overdue.total_seconds() / 3600, 1) if overdue is not None else None,
        }


def rows_of(status: CaseStatus, now: datetime) -> list[TaskRow]:
    """The status's open tasks as rows, with `now` (the caller's clock) put on the case's clock."""
    case_now = now - timedelta(seconds=status.clock_offset_seconds)
    return [
        TaskRow(meeting_id=status.meeting_id, case_id=status.case_id, stage=status.stage, kind=t.kind, role=t.role,
                attempt=t.attempt, opened_at=t.opened_at, due_at=t.due_at, assignee=t.assignee,
                escalated_to=t.escalated_to, case_now=case_now)
        for t in status.open_tasks
    ]


async def open_tasks(client: Client, flt: TaskFilter, *, now: datetime, limit: int | None = None) -> list[TaskRow]:
    """Every open task the filter accepts, most urgent first (earliest due; tasks without a due time last)."""
    ids = [wf.id async for wf in client.list_workflows(flt.visibility_query(now), limit=limit)]
    gate = asyncio.Semaphore(QUERY_CONCURRENCY)

    async def status(workflow_id: str) -> CaseStatus | None:
        async with gate:
            try:
                found: CaseStatus = await client.get_workflow_handle(workflow_id).query("status",
                                                                                       result_type=CaseStatus)
                return found
            except (RPCError, WorkflowQueryFailedError):  # a case that ended meanwhile has no tasks to show
                return None

    statuses = await asyncio.gather(*(status(i) for i in ids if i.startswith(WORKFLOW_ID_PREFIX)))
    rows = [row for s in statuses if s is not None and not s.closed for row in rows_of(s, now) if flt.accepts(row)]
    return sorted(rows, key=_urgency)


def _urgency(row: TaskRow) -> tuple[bool, datetime, str]:
    return (row.due_at is None, row.due_at or row.opened_at, row.meeting_id)


def _quoted(value: str) -> str:
    """A value inside a visibility query's double quotes; the CLI validates ids, this keeps a stray quote out."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def render(rows: Sequence[TaskRow]) -> str:
    """A plain table for the terminal: one line a task, the most urgent first."""
    if not rows:
        return "no open tasks match"
    header = ("DUE", "OVERDUE", "TASK", "MEETING", "CASE", "ASSIGNEE", "ESCALATED", "STAGE")
    lines = [header] + [
        (
            r.due_at.strftime("%Y-%m-%d %H:%M") if r.due_at else "-",
            _span(r.overdue) if r.overdue is not None else "",
            r.kind + (f" ({r.role})" if r.role else "") + (f" #{r.attempt}" if r.attempt > 1 else ""),
            r.meeting_id,
            r.case_id,
            r.assignee or "(team)",
            (r.escalated_to or "").replace("_", " "),
            r.stage,
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    overdue = sum(1 for r in rows if r.overdue is not None)
    return "\n".join([*text, "", f"{len(rows)} open task(s), {overdue} overdue"])


def _span(delta: timedelta) -> str:
    """`2d 3h`, `5h`, `40m`: how overdue, at a glance."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h" if hours else f"{mins}m"
