"""ScenarioDriverWorkflow: plays one scenario's citizen and caseworker against a real case workflow.

Simulation only. It lives in Temporal time next to the case it drives, so scripted events and the simulated
caseworker's answers happen at exact case times, in order, under time skipping — no polling from outside.
The case's `open_task` activity (wrapped in simulation) signals `task_opened`; the driver answers the task
`hours` working hours later through the same update a real caseworker uses.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.calendar import WorkingCalendar
    from domain.policy import PolicySnapshot
    from simulation.scenario import CaseworkerScript, TimedEvent

DRIVER_PREFIX = "sim-driver-"


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


class DeliveryResult(BaseModel):
    event_id: str
    accepted: bool
    reason: str | None = None


class DriverResult(BaseModel):
    deliveries: list[DeliveryResult]


@workflow.defn(name="ScenarioDriverWorkflow")
class ScenarioDriverWorkflow:
    @workflow.init
    def __init__(self, inp: DriverInput) -> None:
        self.inp = inp
        self.cal = WorkingCalendar(inp.policy)
        self.offset = timedelta(seconds=inp.clock_offset_seconds)
        self.queue: list[TimedEvent] = list(inp.events)
        self.answered: dict[str, int] = {}
        self.woken = False

    def now(self) -> datetime:
        return workflow.now() - self.offset

    @workflow.signal(name="task_opened")
    def task_opened(self, task: TaskOpened) -> None:
        """A caseworker task opened in the case: answer it `hours` working hours later."""
        index = self.answered.get(task.kind, 0)
        self.answered[task.kind] = index + 1
        due = self.cal.add_working_hours(task.opened_at, self.inp.caseworker.hours)
        event = {
            "event_id": f"sim/{task.key}", "type": "task_completed", "occurred_at": due.isoformat(),
            "meeting_id": self.inp.meeting_id, "task": task.kind,
            "outcome": self.inp.caseworker.outcome(task.kind, index), "by": "simulated-caseworker",
        }
        self.queue.append(TimedEvent(at=due, update="complete_task", event=event))
        self.woken = True

    @workflow.run
    async def run(self, inp: DriverInput) -> DriverResult:
        results: list[DeliveryResult] = []
        while True:
            now = self.now()
            self.queue.sort(key=lambda t: t.at)
            if not self.queue and now >= inp.horizon:
                break
            until = self.queue[0].at if self.queue else inp.horizon
            if now < until:
                self.woken = False
                with contextlib.suppress(TimeoutError):  # the wait's deadline came first
                    await workflow.wait_condition(lambda: self.woken, timeout=until - now,
                                                  timeout_summary="next scripted event")
                continue
            item = self.queue.pop(0)
            results.append(await workflow.execute_activity(
                "deliver_scenario_event",
                Delivery(case_workflow_id=inp.case_workflow_id, update=item.update, event=item.event),
                result_type=DeliveryResult,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=RetryPolicy(maximum_attempts=3),
            ))
        return DriverResult(deliveries=results)
