"""Starting and watching one case on the time-skipping server, for tests that poke at it from outside.

`worker_on` runs a worker on a task queue the test names, so a test can stop the worker and start another on
the same queue: whatever reaches the case meanwhile (updates from two caseworkers, say) is handed to the
new worker in one workflow task, the tightest race a case can meet.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.case_activities import CaseActivities
from activities.channels import Channels, OutboxChannels
from activities.outbox import Outbox
from domain.events import MeetingMissed, parse_event
from domain.policy import Policy, load_policy, snapshot
from runtime.worker import make_worker
from tests.factories import citizen_data, meeting_missed_data
from workflows.api import CaseInput, CaseResult, CaseStatus, EventAck, Timeline, clock_offset, workflow_id_for

SETTLE_SECONDS = 30.0
"""A bound on waiting for a case to catch up, far above what it needs (the machine is shared)."""


def missed(meeting_id: str, **citizen: Any) -> MeetingMissed:
    """A missed meeting on Monday 2 March 2026, 10:00; keyword arguments override citizen fields."""
    event = parse_event(json.dumps(meeting_missed_data(meeting_id=meeting_id, citizen=citizen_data(**citizen))))
    assert isinstance(event, MeetingMissed)
    return event


async def start_case(env: WorkflowEnvironment, task_queue: str, event: MeetingMissed,
                     policy: Policy | None = None) -> WorkflowHandle[Any, CaseResult]:
    """Start the case with its clock on the absence, as the simulator does."""
    offset = clock_offset(await env.get_current_time(), event.occurred_at)
    return await env.client.start_workflow(
        "MissedMeetingWorkflow",
        CaseInput(case=event, policy=snapshot(policy or load_policy(), 2026), clock_offset_seconds=offset),
        id=workflow_id_for(event.meeting_id), task_queue=task_queue, result_type=CaseResult,
    )


@asynccontextmanager
async def worker_on(env: WorkflowEnvironment, task_queue: str, outbox_path: Path,
                    channels: Channels | None = None) -> AsyncIterator[Worker]:
    """A real worker with real activities (on the outbox, or on `channels`) on the named task queue.

    Without a workflow cache: a cached case would be offered to this worker's sticky queue first, and on the
    time-skipping server a stopped worker's sticky queue never times out, so the next worker would wait.
    """
    activities = CaseActivities(channels or OutboxChannels(Outbox(outbox_path)))
    async with make_worker(env.client, task_queue, activities.all_activities(), max_cached_workflows=0) as worker:
        yield worker


async def settled(handle: WorkflowHandle[Any, Any], ready: Callable[[CaseStatus], bool]) -> CaseStatus:
    """The case's status once `ready` holds; fails the test if it does not within `SETTLE_SECONDS`."""
    loop = asyncio.get_running_loop()
    until = loop.time() + SETTLE_SECONDS
    while True:
        status: CaseStatus = await handle.query("status", result_type=CaseStatus)
        if ready(status):
            return status
        if loop.time() > until:
            pytest.fail(f"the case did not settle: {status.model_dump_json()}")
        await asyncio.sleep(0.05)


async def steps(handle: WorkflowHandle[Any, Any]) -> list[str]:
    return [s["step"] for s in await journal(handle)]


async def journal(handle: WorkflowHandle[Any, Any]) -> list[dict[str, Any]]:
    timeline: Timeline = await handle.query("timeline", result_type=Timeline)
    return timeline.steps


def open_kinds(status: CaseStatus) -> list[str]:
    return [t.kind for t in status.open_tasks]


def split(results: Sequence[EventAck | BaseException]) -> tuple[list[EventAck], list[ApplicationError]]:
    """Accepted updates, and the refusals' causes; anything else fails the test."""
    accepted, refused = [], []
    for result in results:
        if isinstance(result, EventAck):
            accepted.append(result)
        elif isinstance(result, WorkflowUpdateFailedError) and isinstance(result.cause, ApplicationError):
            refused.append(result.cause)
        else:
            pytest.fail(f"neither accepted nor refused with a reason: {result!r}")
    return accepted, refused
