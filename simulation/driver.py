"""ScenarioDriverWorkflow: plays one scenario's citizen and caseworker against a real case workflow.

Simulation only. It lives in Temporal time next to the case it drives, so scripted events and the simulated
caseworker's answers happen at exact case times under time skipping — no polling from outside. The case's
`open_task` activity (wrapped in simulation) signals `task_opened`; the driver answers the task `hours` working
hours later through the same update a real caseworker uses.

Each event is one `deliver_scenario_event` activity, scheduled as soon as the event is known: its first attempt
asks the server to try again when the event is due (`next_retry_delay`), and the second delivers it. The server
keeps that wait without a timer or a workflow task of the driver's: per event, one timer and one workflow task
fewer than sleeping on a timer and then scheduling the activity.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.calendar import WorkingCalendar
    from domain.policy import PolicySnapshot
    from simulation.scenario import CaseworkerScript, TimedEvent

DRIVER_PREFIX = "sim-driver-"
CASEWORKER = "simulated-caseworker"
"""`by` on the simulated caseworker's task outcomes (scripted decision events say `scenario`)."""
DELIVERY_RETRY = RetryPolicy(maximum_attempts=4)
"""Attempt 1 waits until the event is due; 2 delivers; 3 and 4 cover a worker hiccup."""


def driver_id_for(case_workflow_id: str) -> str:
    return f"{DRIVER_PREFIX}{case_workflow_id}"


class DriverInput(BaseModel):
    name: str
    case_workflow_id: str
    meeting_id: str
    clock_offset_seconds: float
    policy: PolicySnapshot
    events: list[TimedEvent]
    caseworker: CaseworkerScript
    horizon: datetime


class TaskOpened(BaseModel):
    kind: str
    key: str
    opened_at: datetime


class Delivery(BaseModel):
    case_workflow_id: str
    update: str
    event: dict[str, object]
    not_before: datetime | None = None
    """Server time (the case's time plus its clock offset) at which the event is due."""


class DeliveryResult(BaseModel):
    """What became of one delivered event; the event's facts ride along for the report."""

    event_id: str
    accepted: bool
    reason: str | None = None
    type: str = ""
    task: str | None = None
    outcome: str | None = None
    reasonable_cause: str | None = None
    at: datetime | None = None


class DriverResult(BaseModel):
    deliveries: list[DeliveryResult]
    tasks: list[TaskOpened] = []
    """Every caseworker task the case opened, in order: the caseworkers' workload."""


@workflow.defn(name="ScenarioDriverWorkflow")
class ScenarioDriverWorkflow:
    @workflow.init
    def __init__(self, inp: DriverInput) -> None:
        self.inp = inp
        self.cal = WorkingCalendar(inp.policy)
        self.offset = timedelta(seconds=inp.clock_offset_seconds)
        self.answered: dict[str, int] = {}
        self.tasks: list[TaskOpened] = []
        self.results: list[DeliveryResult] = []
        self.pending: set[asyncio.Task[None]] = set()

    def now(self) -> datetime:
        return workflow.now() - self.offset

    @workflow.signal(name="task_opened")
    def task_opened(self, task: TaskOpened) -> None:
        """A caseworker task opened in the case: answer it `hours` working hours later."""
        self.tasks.append(task)
        index = self.answered.get(task.kind, 0)
        self.answered[task.kind] = index + 1
        due = self.cal.add_working_hours(task.opened_at, self.inp.caseworker.hours)
        event = {
            "event_id": f"sim/{task.key}", "type": "task_completed", "occurred_at": due.isoformat(),
            "meeting_id": self.inp.meeting_id, "task": task.kind,
            "outcome": self.inp.caseworker.outcome(task.kind, index), "by": CASEWORKER,
        }
        self._schedule(TimedEvent(at=due, update="complete_task", event=event))

    @workflow.run
    async def run(self, inp: DriverInput) -> DriverResult:
        for item in inp.events:
            self._schedule(item)
        if self.now() < inp.horizon:
            await workflow.sleep(inp.horizon - self.now(), summary="scenario horizon")
        # what is still on its way after the horizon (a task opened late) is not followed any further
        return DriverResult(deliveries=sorted(self.results, key=lambda r: (r.at is None, r.at)), tasks=self.tasks)

    def _schedule(self, item: TimedEvent) -> None:
        task = asyncio.create_task(self._deliver(item))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _deliver(self, item: TimedEvent) -> None:
        result = await workflow.execute_activity(
            "deliver_scenario_event",
            Delivery(case_workflow_id=self.inp.case_workflow_id, update=item.update, event=item.event,
                     not_before=item.at.astimezone(UTC) + self.offset),  # in UTC: a zone's wall clock would
            # move by an hour when the offset spans a change to or from summer time
            result_type=DeliveryResult,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=DELIVERY_RETRY,
        )
        self.results.append(result)
        fallback = self._instead_of_refused(item, result)
        if fallback is not None:
            self._schedule(fallback)

    def _instead_of_refused(self, item: TimedEvent, result: DeliveryResult) -> TimedEvent | None:
        """The caseworker's own decision was refused by the rules: decide `if_refused` instead, at once."""
        fallback = self.inp.caseworker.if_refused
        event = item.event
        if (result.accepted or fallback is None or event.get("task") != "decision"
                or event.get("by") != CASEWORKER or event.get("outcome") == fallback):
            return None
        return TimedEvent(at=item.at, update="complete_task",
                          event={**event, "event_id": f"{event['event_id']}/if-refused", "outcome": fallback})
