"""The case workflow's updates on a real worker: what the validators refuse, and why, in words."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.events import MeetingMissed, TaskCompleted, parse_event
from domain.policy import load_policy, snapshot
from tests.temporal_env import case_worker, start_env
from workflows.api import (
    DECISION_REFUSED,
    DUPLICATE_EVENT,
    TASK_NOT_OPEN,
    CaseInput,
    CaseResult,
    CaseStatus,
    CitizenEventInput,
    EventAck,
    Timeline,
    clock_offset,
    workflow_id_for,
)

CPR = "0101901234"


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await start_env()
    async with environment:
        yield environment


def missed(meeting_id: str, readiness: str = "jobparat") -> MeetingMissed:
    event = parse_event(json.dumps({
        "event_id": f"start-{meeting_id}", "type": "meeting_missed", "occurred_at": "2026-03-02T10:00:00+01:00",
        "meeting_id": meeting_id, "case_id": "K-2026-0042", "ground": "jobsamtale",
        "citizen": {"cpr": CPR, "name": "Jens Hansen", "address": "Nørrebrogade 1, 2200 København N",
                    "readiness": readiness, "digital_post": "registered", "nemsms": True, "phone": "+4512345678",
                    "guidance_given_on": "2025-12-01"}}))
    assert isinstance(event, MeetingMissed)
    return event


async def start(env: WorkflowEnvironment, task_queue: str, event: MeetingMissed) -> WorkflowHandle[Any, Any]:
    now = await env.get_current_time()
    offset = clock_offset(now, event.occurred_at)
    return await env.client.start_workflow(
        "MissedMeetingWorkflow",
        CaseInput(case=event, policy=snapshot(load_policy(), 2026), clock_offset_seconds=offset),
        id=workflow_id_for(event.meeting_id), task_queue=task_queue, result_type=CaseResult,
    )


async def settled(handle: WorkflowHandle[Any, Any], ready: Callable[[CaseStatus], bool]) -> CaseStatus:
    """The case's status once the workflow has caught up (bounded: 5 s of real time)."""
    for _ in range(100):
        status = await handle.query("status", result_type=CaseStatus)
        if ready(status):
            return status
        await asyncio.sleep(0.05)
    return status


def task(meeting_id: str, event_id: str, kind: str, outcome: str) -> TaskCompleted:
    return TaskCompleted(event_id=event_id, type="task_completed", occurred_at="2026-03-04T10:00:00+01:00",
                         meeting_id=meeting_id, task=kind, outcome=outcome)  # type: ignore[arg-type]


async def refusal(handle: WorkflowHandle[Any, Any], update: str, arg: Any, event_id: str) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(update, arg, id=event_id, result_type=EventAck)
    cause = info.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_refusals_name_what_is_wrong(env: WorkflowEnvironment, tmp_path: Path) -> None:
    async with case_worker(env, tmp_path / "outbox.sqlite") as (worker, _):
        handle = await start(env, worker.task_queue, missed("M-V1", "aktivitetsparat"))
        # a task that is not open
        err = await refusal(handle, "complete_task", task("M-V1", "t1", "home_visit", "no_contact"), "t1")
        assert err.type == TASK_NOT_OPEN and "no home_visit task is open" in err.message
        # a decision before the citizen was even heard
        err = await refusal(handle, "complete_task", task("M-V1", "t2", "decision", "sanction"), "t2")
        assert err.type == DECISION_REFUSED and "has not been heard yet" in err.message
        # a decision after the hearing letter but before the deadline, without an answer
        await env.sleep(timedelta(days=2))
        err = await refusal(handle, "complete_task", task("M-V1", "t3", "decision", "sanction"), "t3")
        assert err.type == DECISION_REFUSED and "deadline has not passed (last day 2026-03-11)" in err.message
        # both refusals are documented in the journal (notatpligt)
        timeline = await handle.query("timeline", result_type=Timeline)
        assert [s["step"] for s in timeline.steps].count("decision_rejected") == 2
        assert CPR not in json.dumps(timeline.model_dump(mode="json")["steps"][-1])
        # an open case with no worker would stall the shared server's clock for the next test
        await handle.terminate("test done")


async def test_duplicates_and_closed_cases(env: WorkflowEnvironment, tmp_path: Path) -> None:
    async with case_worker(env, tmp_path / "outbox.sqlite") as (worker, _):
        handle = await start(env, worker.task_queue, missed("M-V2"))
        await env.sleep(timedelta(days=1))
        answer = CitizenEventInput.model_validate({"event": {
            "event_id": "r1", "type": "citizen_responded", "occurred_at": "2026-03-04T10:00:00+01:00",
            "meeting_id": "M-V2", "channel": "phone", "explanation": "I was ill", "reasonable_cause": "illness"}})
        ack = await handle.execute_update("citizen_event", answer, id="r1", result_type=EventAck)
        assert ack.event_id == "r1"
        # the same event again under a new update id: the workflow itself recognises it
        err = await refusal(handle, "citizen_event", answer, "r1-again")
        assert err.type == DUPLICATE_EVENT
        status = await settled(handle, lambda st: bool(st.open_tasks))
        assert [t.kind for t in status.open_tasks] == ["decision"]
        ok = await handle.execute_update("complete_task", task("M-V2", "d1", "decision",
                                         "no_sanction_reasonable_cause"), id="d1", result_type=EventAck)
        assert ok.event_id == "d1"
        result = await handle.result()
        assert result.decision == "no_sanction_reasonable_cause"
        steps = [s["step"] for s in (await handle.query("timeline", result_type=Timeline)).steps]
        assert steps.count("response_received") == 1 and steps[-1] == "case_closed"


async def test_a_decided_case_closes_itself_once_the_letter_is_out(env: WorkflowEnvironment, tmp_path: Path) -> None:
    async with case_worker(env, tmp_path / "outbox.sqlite") as (worker, _):
        handle = await start(env, worker.task_queue, missed("M-V3"))
        await env.sleep(timedelta(days=1))
        answer = CitizenEventInput.model_validate({"event": {
            "event_id": "r1", "type": "citizen_attended", "occurred_at": "2026-03-04T10:00:00+01:00",
            "meeting_id": "M-V3"}})
        await handle.execute_update("citizen_event", answer, id="r1", result_type=EventAck)
        await handle.execute_update("complete_task", task("M-V3", "d1", "decision", "no_sanction_other"),
                                    id="d1", result_type=EventAck)
        await handle.result()
        # the case closed itself once the letter was out: Temporal refuses further updates to it
        description = await handle.describe()
        assert description.status == WorkflowExecutionStatus.COMPLETED


async def test_the_journal_keeps_when_things_happened(env: WorkflowEnvironment, tmp_path: Path) -> None:
    """An update in the very first activation still comes after case_opened; a late-delivered answer is
    journaled at the time the citizen gave it, not when the jobcenter system got round to sending it."""
    async with case_worker(env, tmp_path / "outbox.sqlite") as (worker, _):
        handle = await start(env, worker.task_queue, missed("M-V4"))
        early = CitizenEventInput.model_validate({"event": {
            "event_id": "a1", "type": "citizen_attended", "occurred_at": "2026-03-02T10:00:00+01:00",
            "meeting_id": "M-V4", "explanation": "came by the same morning"}})
        await handle.execute_update("citizen_event", early, id="a1", result_type=EventAck)
        await env.sleep(timedelta(days=6))
        late = CitizenEventInput.model_validate({"event": {
            "event_id": "r1", "type": "citizen_responded", "occurred_at": "2026-03-04T09:15:00+01:00",
            "meeting_id": "M-V4", "channel": "letter", "explanation": "posted on Wednesday"}})
        await handle.execute_update("citizen_event", late, id="r1", result_type=EventAck)
        steps = (await handle.query("timeline", result_type=Timeline)).steps
        assert steps[0]["step"] == "case_opened"
        attended = next(s for s in steps if s["step"] == "citizen_attended")
        assert attended["at"] == "2026-03-02T10:00:00+01:00"
        response = next(s for s in steps if s["step"] == "response_received")
        assert response["at"] == "2026-03-04T09:15:00+01:00"
        await handle.terminate("test done")
