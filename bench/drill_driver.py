"""Playing drill cases against a live server the way the jobcenter's systems would, through crashes.

Each case is started, then fed its answer, its decision and (after a sanction) the citizen's return, each
as soon as the case is ready for it, exactly as a caseworker would act on the task list. Events go through
the intake's gateway (`intake.gateway.CaseGateway.deliver`, what `starter.py events` uses), so a repeat
after a crash is recognised as a duplicate by the event id. Anything that fails because a process is down
is tried again until the case's deadline; a refusal by the case itself is an error of the drill.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from bench.drill_cases import CaseClock, DrillCase
from domain.events import MeetingMissed, parse_event
from intake.gateway import CaseGateway, DeliverableEvent, IntakeHalted, start_attributes
from workflows.api import WORKFLOW_TYPE, CaseInput, CaseResult, CaseStatus, workflow_id_for

T = TypeVar("T")
TRANSIENT = (RPCError, IntakeHalted, TimeoutError, WorkflowQueryFailedError, WorkflowUpdateRPCTimeoutOrCancelledError)
"""What a crashed worker or server looks like to a caller: try again."""
ATTEMPT_TIMEOUT = 20.0
POLL = 0.3


class CaseStuck(Exception):
    """The case did not get where it should within the drill's patience."""


@dataclass
class CaseRun:
    """What happened to one case: its errors (refusals, failures, timeouts) and how often it had to retry."""

    case: DrillCase
    errors: list[str] = field(default_factory=list)
    retries: int = 0
    completed: bool = False
    seconds: float = 0.0

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.case.meeting_id)


@dataclass
class Driver:
    """Plays cases on `client` with the case clock `clock`; `progress` counts steps done across all cases."""

    client: Client
    gateway: CaseGateway
    clock: CaseClock
    task_queue: str
    patience: float = 600.0
    on_step: Callable[[], None] | None = None
    """Called after each step of a case (`DrillCase.steps` of them): where the chaos plan strikes."""

    async def play(self, case: DrillCase) -> CaseRun:
        run = CaseRun(case)
        began = time.monotonic()
        deadline = began + self.patience
        try:
            handle = await self._start(run, deadline)
            await self._until(run, handle, deadline, lambda st: st.stage != "hearing", "the hearing letter")
            await self._deliver(run, case.answer(self.clock.now()), deadline)
            await self._until(run, handle, deadline, lambda st: any(t.kind == "decision" for t in st.open_tasks),
                              "the decision task")
            await self._deliver(run, case.decision(self.clock.now()), deadline)
            if case.script.restore_contact:
                await self._until(run, handle, deadline, lambda st: st.waiting_for.startswith("contact restored"),
                                  "the deduction")
                await self._deliver(run, case.contact_restored(self.clock.now()), deadline)
            await self.patiently(run, deadline, lambda: handle.result())
            run.completed = True
            self._step()
        except CaseStuck as exc:
            run.errors.append(str(exc))
        except WorkflowFailureError as exc:
            run.errors.append(f"the case workflow failed: {exc.cause}")
        run.seconds = time.monotonic() - began
        return run

    def _step(self) -> None:
        if self.on_step is not None:
            self.on_step()

    async def _start(self, run: CaseRun, deadline: float) -> WorkflowHandle[Any, CaseResult]:
        event = run.case.meeting_missed()
        attributes = start_attributes(event)
        inp = CaseInput(case=event, policy=self.gateway.snapshot_for(event),
                        clock_offset_seconds=self.clock.offset_seconds)

        async def start() -> None:
            # WorkflowAlreadyStartedError: an earlier attempt got through before the connection broke
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await self.client.start_workflow(
                    WORKFLOW_TYPE, inp, id=run.workflow_id, task_queue=self.task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    id_conflict_policy=WorkflowIDConflictPolicy.FAIL, search_attributes=attributes,
                )

        await self.patiently(run, deadline, start)
        self._step()
        return self.client.get_workflow_handle(run.workflow_id, result_type=CaseResult)

    async def _deliver(self, run: CaseRun, data: dict[str, Any], deadline: float) -> None:
        event: DeliverableEvent | MeetingMissed = parse_event(json.dumps(data, ensure_ascii=False))
        if isinstance(event, MeetingMissed):
            raise TypeError("a meeting_missed event starts a case; it is not delivered to one")
        deliverable = event

        async def deliver() -> None:
            outcome = await self.gateway.deliver(deliverable)
            if outcome.kind == "rejected":
                raise CaseStuck(f"{data['type']} refused: {outcome.reason}")

        await self.patiently(run, deadline, deliver)
        self._step()

    async def _until(self, run: CaseRun, handle: WorkflowHandle[Any, Any], deadline: float,
                     ready: Callable[[CaseStatus], bool], what: str) -> None:
        while time.monotonic() < deadline:
            status = await self.patiently(run, deadline, lambda: handle.query("status", result_type=CaseStatus))
            if (status.closed or ready(status)) and await self.patiently(run, deadline, lambda: _settled(handle)):
                return
            await asyncio.sleep(POLL)
        raise CaseStuck(f"still waiting for {what}")

    async def patiently(self, run: CaseRun, deadline: float, call: Callable[[], Awaitable[T]]) -> T:
        """`call()` until it works; what fails because a process is down is tried again until `deadline`."""
        while True:
            try:
                async with asyncio.timeout(ATTEMPT_TIMEOUT):
                    return await call()
            except TRANSIENT as exc:
                me = asyncio.current_task()
                if me is not None and me.cancelling():  # the SDK reports our own cancellation as a timeout
                    raise asyncio.CancelledError from None
                if time.monotonic() > deadline:
                    raise CaseStuck(f"gave up after {self.patience:.0f} s: {type(exc).__name__}") from None
                run.retries += 1
                await asyncio.sleep(POLL)


async def _settled(handle: WorkflowHandle[Any, Any]) -> bool:
    """No workflow task pending: what the last query showed is in the history, not only in a worker's memory.

    A query answers from the worker's state, which may run ahead of the history by one workflow task; a crash
    before that task completes rolls the case back, and a caseworker who acted on the query would act on a
    state the case never durably had (a lawful, but different, journal).
    """
    description = await handle.describe()
    return not description.raw_description.HasField("pending_workflow_task")
