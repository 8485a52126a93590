"""Updates under races: two caseworkers on one task, a decision arriving while contact is being made.

Each race is run twice: as it happens (both updates sent at once), and in its tightest form, both waiting
while the worker is away and handed to the next worker in one workflow task. That form is safe because the
SDK runs each update's validator right before its handler, in arrival order (the handlers change the case
before their first await), so the second validator already sees what the first handler did.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.events import TaskCompleted
from tests.case_handles import journal, missed, open_kinds, settled, split, start_case, steps, worker_on
from tests.factories import CPR, pinned_policy
from tests.temporal_env import start_env
from workflows.api import DECISION_REFUSED, DUPLICATE_EVENT, TASK_NOT_OPEN, CitizenEventInput, EventAck

RACE_TIMEOUT = 60.0
"""Bound on a race's updates being answered (a stuck workflow task would otherwise hang the test)."""


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A server of its own: these tests skip ten days, which other tests' sleeping cases would stall."""
    async with await start_env() as environment:
        yield environment


def task(meeting: str, event_id: str, kind: str, outcome: str, by: str) -> TaskCompleted:
    return TaskCompleted.model_validate({
        "event_id": event_id, "type": "task_completed", "occurred_at": "2026-03-12T09:00:00+01:00",
        "meeting_id": meeting, "task": kind, "outcome": outcome, "by": by})


def answer(meeting: str, event_id: str) -> CitizenEventInput:
    return CitizenEventInput.model_validate({"event": {
        "event_id": event_id, "type": "citizen_responded", "occurred_at": "2026-03-12T09:00:00+01:00",
        "meeting_id": meeting, "channel": "phone", "explanation": "Jeg har ikke fået brevet"}})


async def in_the_ladder(env: WorkflowEnvironment, queue: str, meeting: str) -> WorkflowHandle[Any, Any]:
    """An aktivitetsparat case past its deadline without an answer: the first phone call task is open."""
    handle = await start_case(env, queue, missed(meeting, readiness="aktivitetsparat"), pinned_policy())
    await env.sleep(timedelta(days=10))  # deadline 2026-03-11; the ladder starts on the 12th at 08:00
    await settled(handle, lambda st: "phone_call" in open_kinds(st))
    return handle


async def accepted_in_one_workflow_task(handle: WorkflowHandle[Any, Any], count: int) -> bool:
    """Whether the case's history shows `count` updates accepted by one and the same workflow task."""
    completed_by = []
    last_task = None
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            last_task = event.event_id
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            completed_by.append(last_task)
    return len(completed_by) == count and len(set(completed_by)) == 1


Updates = Callable[[WorkflowHandle[Any, Any]], Sequence[Coroutine[Any, Any, EventAck]]]


@asynccontextmanager
async def race(env: WorkflowEnvironment, tmp_path: Path, meeting: str, batched: bool,
               updates: Updates) -> AsyncIterator[tuple[WorkflowHandle[Any, Any], list[EventAck | BaseException]]]:
    """Bring a case into the ladder, then send `updates` at once, with a worker running; or (`batched`) while
    none runs, so the next worker gets them all in one workflow task, in the order they were sent. Yields the
    case and the updates' results with the worker that took them still running, for the checks.

    The worker is swapped only while the case waits for its phone call task: a worker stopped while the case
    runs an activity cancels it, and the retry's backoff is virtual time that nothing would skip."""
    queue, outbox = f"race-{uuid.uuid4()}", tmp_path / "outbox.sqlite"
    async with worker_on(env, queue, outbox):
        handle = await in_the_ladder(env, queue, meeting)
        if not batched:
            async with asyncio.timeout(RACE_TIMEOUT):
                results = list(await asyncio.gather(*updates(handle), return_exceptions=True))
            yield handle, results
            return
    sent = []
    for update in updates(handle):
        sent.append(asyncio.ensure_future(update))
        await asyncio.sleep(0.5)  # the server takes them one after the other, with no worker to hand them to
    async with worker_on(env, queue, outbox):
        async with asyncio.timeout(RACE_TIMEOUT):
            results = list(await asyncio.gather(*sent, return_exceptions=True))
        yield handle, results


@pytest.mark.parametrize("batched", [False, True], ids=["at-once", "one-workflow-task"])
async def test_two_caseworkers_complete_the_same_task(env: WorkflowEnvironment, tmp_path: Path,
                                                      batched: bool) -> None:
    meeting = f"M-race-{batched}"
    async with race(env, tmp_path, meeting, batched, lambda handle: [
        handle.execute_update("complete_task", task(meeting, "t-anna", "phone_call", "no_answer", "cw-anna"),
                              id="t-anna", result_type=EventAck),
        handle.execute_update("complete_task", task(meeting, "t-bo", "phone_call", "voicemail", "cw-bo"),
                              id="t-bo", result_type=EventAck),
    ]) as (handle, results):
        accepted, refused = split(results)
        assert len(accepted) == 1 and len(refused) == 1
        assert refused[0].type == TASK_NOT_OPEN and "no phone_call task is open" in refused[0].message
        entries = [s for s in await journal(handle) if s["step"] == "phone_call"]
        assert len(entries) == 1 and entries[0]["by"] in {"cw-anna", "cw-bo"}
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        await handle.terminate("test done")


@pytest.mark.parametrize("decision_first", [True, False], ids=["decision-first", "answer-first"])
@pytest.mark.parametrize("batched", [False, True], ids=["at-once", "one-workflow-task"])
async def test_a_sanction_racing_the_citizens_answer_is_never_lawless(
    env: WorkflowEnvironment, tmp_path: Path, batched: bool, decision_first: bool
) -> None:
    meeting = f"M-race-{batched}-{decision_first}"

    def updates(handle: WorkflowHandle[Any, Any]) -> list[Coroutine[Any, Any, EventAck]]:
        decide = handle.execute_update("complete_task", task(meeting, "d-1", "decision", "sanction", "cw-anna"),
                                       id="d-1", result_type=EventAck)
        respond = handle.execute_update("citizen_event", answer(meeting, "r-1"), id="r-1", result_type=EventAck)
        return [decide, respond] if decision_first else [respond, decide]

    async with race(env, tmp_path, meeting, batched, updates) as (handle, results):
        decision, response = results if decision_first else results[::-1]
        assert isinstance(response, EventAck), "the citizen's answer is always recorded"
        names = await steps(handle)
        assert names.count("response_received") == 1
        if isinstance(decision, EventAck):  # the answer came first: a sanction after hearing the citizen
            assert names.count("decision_made") == 1 and "decision_rejected" not in names
            assert names.index("contact_made") < names.index("decision_made")
        else:  # the decision came first: refused, the contact attempts were not exhausted
            _, refused = split([decision])
            assert refused[0].type == DECISION_REFUSED and "udvidet partshøring" in refused[0].message
            assert "decision_made" not in names and names.count("decision_rejected") == 1
            status = await settled(handle, lambda st: "decision" in open_kinds(st))
            assert status.decision is None and "phone_call" not in open_kinds(status)
        if batched:  # one workflow task took both, in the order they arrived
            assert await accepted_in_one_workflow_task(handle, 2)
            assert isinstance(decision, EventAck) != decision_first
        text = str(await journal(handle))
        assert CPR not in text
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        await handle.terminate("test done")


async def test_a_refused_decision_sent_again_is_a_duplicate(env: WorkflowEnvironment, tmp_path: Path) -> None:
    queue, meeting = f"race-{uuid.uuid4()}", "M-refused-twice"
    async with worker_on(env, queue, tmp_path / "outbox.sqlite"):
        handle = await start_case(env, queue, missed(meeting), pinned_policy())
        early = task(meeting, "d-early", "decision", "sanction", "cw-anna")
        results = [await asyncio.gather(handle.execute_update("complete_task", early, id=update_id,
                                                               result_type=EventAck), return_exceptions=True)
                   for update_id in ("d-early", "d-early-again")]
        _, refused = split([r[0] for r in results])
        names = await steps(handle)
        await handle.terminate("test done")
    assert refused[0].type == DECISION_REFUSED
    assert names.count("decision_rejected") == 1  # the contract: a repeated event id does nothing a second time
    assert refused[1].type == DUPLICATE_EVENT
