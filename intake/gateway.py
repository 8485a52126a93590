"""The intake's only contact with Temporal: start a case, deliver an event, and say what happened.

Temporal's answers are turned into three outcomes a jobcenter operator understands: done, a duplicate
(nothing to do, not an error), or a rejection with a reason. Anything else (server unreachable, a namespace
without the search attributes, no worker answering) is not the line's fault; it raises `IntakeHalted` so
the run stops instead of filling the rejects file with good lines. Running the same input again is safe:
cases and events are deduplicated.

Workflow type and update names are strings, so the intake does not import the workflow code.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, FailureError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.case import Stage
from domain.events import (
    CitizenAttended,
    CitizenResponded,
    ContactRestored,
    MeetingMissed,
    TaskAssigned,
    TaskCompleted,
)
from domain.policy import Policy, PolicySnapshot, snapshot
from workflows import search_attributes as sa
from workflows.api import (
    DUPLICATE_EVENT,
    TASK_QUEUE,
    WORKFLOW_TYPE,
    CaseInput,
    CitizenEventInput,
    EventAck,
    workflow_id_for,
)

CITIZEN_EVENT_UPDATE = "citizen_event"
COMPLETE_TASK_UPDATE = "complete_task"
ASSIGN_TASK_UPDATE = "assign_task"
SNAPSHOT_YEARS = 3
"""Closed days are frozen into a case for this many calendar years: longer than any case lives."""
DEFAULT_UPDATE_TIMEOUT = timedelta(seconds=60)
"""How long to wait for a case to answer an event before concluding that no worker is running."""

DeliverableEvent = CitizenResponded | CitizenAttended | ContactRestored | TaskCompleted | TaskAssigned

_CLOSED = frozenset({
    WorkflowExecutionStatus.COMPLETED,
    WorkflowExecutionStatus.FAILED,
    WorkflowExecutionStatus.CANCELED,
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.TIMED_OUT,
})


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one event."""

    kind: Literal["started", "delivered", "duplicate", "rejected"]
    reason: str = ""


class Gateway(Protocol):
    """What the intake needs from Temporal; `CaseGateway` is the real one."""

    async def start_case(self, event: MeetingMissed) -> Outcome: ...

    async def deliver(self, event: DeliverableEvent) -> Outcome: ...


class IntakeHalted(Exception):
    """Temporal could not be used (not the line's fault): stop the run; the input can be run again."""


class CaseGateway:
    """Starts case workflows and delivers events to them as updates."""

    def __init__(
        self,
        client: Client,
        policy: Policy,
        *,
        task_queue: str = TASK_QUEUE,
        update_timeout: timedelta = DEFAULT_UPDATE_TIMEOUT,
    ) -> None:
        self._client = client
        self._policy = policy
        self._zone = ZoneInfo(policy.calendar.timezone)
        self._task_queue = task_queue
        self._update_timeout = update_timeout.total_seconds()
        self._snapshots: dict[int, PolicySnapshot] = {}

    def snapshot_for(self, event: MeetingMissed) -> PolicySnapshot:
        """The policy with the closed days from the year of the absence (local time), cached per year."""
        year = event.occurred_at.astimezone(self._zone).year
        if year not in self._snapshots:
            self._snapshots[year] = snapshot(self._policy, first_year=year, years=SNAPSHOT_YEARS)
        return self._snapshots[year]

    async def start_case(self, event: MeetingMissed) -> Outcome:
        """Start the case workflow for a missed meeting; an existing case (open or closed) is a duplicate."""
        try:
            await self._client.start_workflow(
                WORKFLOW_TYPE,
                CaseInput(case=event, policy=self.snapshot_for(event)),
                id=workflow_id_for(event.meeting_id),
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                search_attributes=start_attributes(event),
                static_summary=case_summary(event),
                static_details=case_details(event, self._zone),
            )
        except WorkflowAlreadyStartedError:
            return Outcome("duplicate", f"case for meeting {event.meeting_id} already exists")
        except RPCError as exc:
            raise _halt("Temporal refused to start the case", exc) from None
        return Outcome("started")

    async def deliver(self, event: DeliverableEvent) -> Outcome:
        """Deliver a citizen event or task outcome to its case as an update whose id is the event id.

        With that id Temporal never applies an event twice, even when two runs race. But it answers a
        repeated id with the first outcome, which looks like a fresh acceptance; so the update is polled
        first, and one that exists already is reported as a duplicate. (After continue-as-new the old
        run's update ids are gone; then the workflow's own check answers with DUPLICATE_EVENT.)
        """
        handle = self._client.get_workflow_handle(workflow_id_for(event.meeting_id))
        try:
            async with asyncio.timeout(self._update_timeout):
                return await self._deliver(handle, event)
        # the SDK turns our timeout's cancellation into its own error; either way the case did not answer
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            raise IntakeHalted(
                f"no answer from the case for meeting {event.meeting_id} within {self._update_timeout:g} s; "
                f"is a worker running on task queue {self._task_queue}?"
            ) from None

    async def _deliver(self, handle: WorkflowHandle[Any, Any], event: DeliverableEvent) -> Outcome:
        meeting = event.meeting_id
        try:
            try:
                await handle.get_update_handle(event.event_id, result_type=EventAck).result()
                return Outcome("duplicate", f"event {event.event_id} was already delivered")
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
            await handle.execute_update(*_update_for(event), id=event.event_id, result_type=EventAck)
        except WorkflowUpdateFailedError as exc:
            return _refusal(exc)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise _halt("Temporal refused the event", exc) from None
            return await self._missing(handle, meeting)
        return Outcome("delivered")

    async def _missing(self, handle: WorkflowHandle[Any, Any], meeting: str) -> Outcome:
        """NOT_FOUND means no case, or a case that has ended; describe tells which."""
        try:
            description = await handle.describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return Outcome("rejected", f"no case for meeting {meeting}")
            raise _halt("Temporal could not describe the case", exc) from None
        if description.status in _CLOSED:
            return Outcome("rejected", f"the case for meeting {meeting} is closed")
        return Outcome("rejected", f"the case for meeting {meeting} did not accept the event")


def start_attributes(event: MeetingMissed) -> TypedSearchAttributes:
    """What a case is found by from the moment it exists, before any worker has run it."""
    return TypedSearchAttributes([
        SearchAttributePair(sa.CASE_STAGE, Stage.hearing.value),
        SearchAttributePair(sa.READINESS, event.citizen.readiness.value),
        SearchAttributePair(sa.LEGAL_GROUND, event.ground.value),
        SearchAttributePair(sa.CASE_ID, event.case_id),
    ])


def case_summary(event: MeetingMissed) -> str:
    """The Web UI's one-line title for a case: ids and categories, never the citizen (encrypted all the same)."""
    return f"Case {event.case_id} · {event.ground.value.replace('_', ' ')} · {event.citizen.readiness.value}"


def case_details(event: MeetingMissed, zone: ZoneInfo) -> str:
    """The Web UI's fixed facts of a case, in Markdown: what was missed, when, and how letters reach the citizen."""
    citizen = event.citizen
    roles = ", ".join(sorted({r.role.value for r in citizen.representatives})) or "none"
    return "\n".join([
        f"**Meeting:** {event.meeting_id}  ",
        f"**Missed:** {event.occurred_at.astimezone(zone):%Y-%m-%d %H:%M} ({event.ground.value})  ",
        f"**Readiness:** {citizen.readiness.value}  ",
        f"**Digital Post:** {citizen.digital_post.value}; NemSMS: {'yes' if citizen.nemsms else 'no'}  ",
        f"**Representatives:** {roles}",
    ])


def _refusal(exc: WorkflowUpdateFailedError) -> Outcome:
    """The case refused the event: a duplicate it had already recorded, or a reason from the rules."""
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        if cause.type == DUPLICATE_EVENT:
            return Outcome("duplicate", cause.message)
        return Outcome("rejected", cause.message)
    if isinstance(cause, FailureError):
        return Outcome("rejected", f"the case refused the event: {cause.message}")
    return Outcome("rejected", "the case refused the event")


def _update_for(event: DeliverableEvent) -> tuple[str, TaskCompleted | TaskAssigned | CitizenEventInput]:
    """Caseworkers' task outcomes, task assignments and the citizen's events go to different updates."""
    if isinstance(event, TaskCompleted):
        return COMPLETE_TASK_UPDATE, event
    if isinstance(event, TaskAssigned):
        return ASSIGN_TASK_UPDATE, event
    return CITIZEN_EVENT_UPDATE, CitizenEventInput(event=event)


def _halt(what: str, exc: RPCError) -> IntakeHalted:
    return IntakeHalted(f"{what} ({exc.status.name}): {exc.message}")
