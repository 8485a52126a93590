"""Simulation's activities: deliver scripted events to a case, and tell the driver when a task opens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.service import RPCError, RPCStatusCode

from activities.models import Receipt, TaskNotice
from domain.events import TaskCompleted
from simulation.driver import Delivery, DeliveryResult, TaskOpened, driver_id_for
from workflows.api import CitizenEventInput, EventAck

NOT_DUE = "ScenarioEventNotDue"
"""The deliberate first failure of a delivery whose event lies in the future (see simulation/driver.py)."""


class SimulationActivities:
    """Wraps the real `open_task` so the scenario driver hears of new tasks; delivers events as updates."""

    def __init__(self, client: Client, open_task: Callable[[TaskNotice], Awaitable[Receipt]]) -> None:
        self.client = client
        self._open_task = open_task

    @activity.defn(name="open_task")
    async def open_task(self, notice: TaskNotice) -> Receipt:
        receipt = await self._open_task(notice)
        driver = self.client.get_workflow_handle(driver_id_for(notice.case.workflow_id))
        try:
            await driver.signal("task_opened", TaskOpened(kind=notice.kind.value, key=notice.idempotency_key,
                                                          opened_at=notice.opened_at))
        except RPCError as exc:
            # The driver has reached its horizon: a task opened after it is not followed. Retrying would only
            # spin, since time skipping makes every retry's back-off instant (10,000 attempts in a minute, seen).
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
        return receipt

    @activity.defn(name="deliver_scenario_event")
    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        """Deliver the event as the update a jobcenter system or caseworker would send; on the first attempt of
        an event not yet due, ask the server to try again when it is (the retry's wait costs no workflow task)."""
        info = activity.info()
        wait = delivery.not_before - info.current_attempt_scheduled_time if delivery.not_before else None
        if info.attempt == 1 and wait is not None and wait > timedelta(0):
            raise ApplicationError("not due yet", type=NOT_DUE, next_retry_delay=wait,
                                   category=ApplicationErrorCategory.BENIGN)
        handle = self.client.get_workflow_handle(delivery.case_workflow_id)
        event_id = str(delivery.event["event_id"])
        payload: CitizenEventInput | TaskCompleted
        if delivery.update == "complete_task":
            payload = TaskCompleted.model_validate(delivery.event)
        else:
            payload = CitizenEventInput.model_validate({"event": delivery.event})
        ev = delivery.event
        facts = DeliveryResult(
            event_id=event_id, accepted=True, type=str(ev["type"]), task=_text(ev.get("task")),
            outcome=_text(ev.get("outcome")), reasonable_cause=_text(ev.get("reasonable_cause")),
            at=datetime.fromisoformat(str(ev["occurred_at"])),
        )
        try:
            await handle.execute_update(delivery.update, payload, id=event_id, result_type=EventAck)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
            return facts.model_copy(update={"accepted": False, "reason": reason})
        except RPCError as exc:
            return facts.model_copy(update={"accepted": False, "reason": f"case not running: {exc.message}"})
        return facts


def _text(value: object) -> str | None:
    return None if value is None else str(value)
