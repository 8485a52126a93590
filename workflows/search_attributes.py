"""Typed search attributes: what an operator filters cases by in the Web UI. Never personal data."""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
READINESS = SearchAttributeKey.for_keyword("Readiness")
LEGAL_GROUND = SearchAttributeKey.for_keyword("LegalGround")
CASE_ID = SearchAttributeKey.for_keyword("CaseId")
PENDING_TASK = SearchAttributeKey.for_keyword("PendingTask")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
DECISION = SearchAttributeKey.for_keyword("Decision")
PENDING_TASKS = SearchAttributeKey.for_keyword_list("PendingTasks")
"""Every open task's kind: `PendingTasks = 'home_visit'` matches a case with a home visit among its tasks
(`PendingTask` holds the same kinds as one comma-joined word, for display)."""
ASSIGNED_TO = SearchAttributeKey.for_keyword_list("AssignedTo")
"""User ids of the caseworkers the open tasks are assigned to."""
TASK_DUE = SearchAttributeKey.for_datetime("TaskDue")
"""When the earliest open task falls due. Meaningful with `PendingTasks IS NOT NULL`: it keeps its last value
once no task is open."""
ESCALATION = SearchAttributeKey.for_keyword("Escalation")
"""The furthest an open overdue task has escalated: `assignee` (reminded) or `team_lead`."""

ALL: tuple[SearchAttributeKey[Any], ...] = (
    CASE_STAGE,
    READINESS,
    LEGAL_GROUND,
    CASE_ID,
    PENDING_TASK,
    NEXT_DEADLINE,
    DECISION,
    PENDING_TASKS,
    ASSIGNED_TO,
    TASK_DUE,
    ESCALATION,
)
