"""A case that stays open for months keeps its history bounded: it continues as new when Temporal suggests
it, carrying its journal and the event ids it has seen, and goes on as if nothing happened.

The suggestion comes from the server (history length and size thresholds, 4K events by default), and the
time-skipping test server never gives it. So this test runs a real dev server (`bench.processes.DevServer`)
with the threshold lowered to a few dozen events, and grows one case's history (the citizen keeps coming by
while the decision is pending; each visit is journaled) until it has continued as new, then plays it to the
end. (The time-skipping server does suggest it, but only at its fixed 4096 events: measured, 818 timer loops.)
Real time: the case lives on the drill's case clock (a Wednesday morning), and nothing in it waits for a timer.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from activities.case_activities import CaseActivities
from activities.channels import OutboxChannels
from activities.outbox import Outbox
from bench.drill_cases import CaseClock, DrillCase, Script
from bench.drill_check import actual_sends, compare_sends, expected_sends
from bench.processes import DevServer
from domain.events import MeetingMissed, parse_event
from domain.policy import load_policy
from intake.gateway import CaseGateway, DeliverableEvent
from runtime.keys import KeyRing
from runtime.temporal import data_converter
from runtime.worker import make_worker
from workflows.api import CaseInput, CaseResult, CaseStatus, Timeline, workflow_id_for

SUGGEST_AFTER_EVENTS = 80
"""The server suggests continue-as-new past this many history events (dev server default: 4096)."""
PATIENCE = 60.0


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[DevServer]:
    dev = DevServer(tmp_path, {"limit.historyCount.suggestContinueAsNew": str(SUGGEST_AFTER_EVENTS)})
    try:
        await dev.start()
        yield dev
    finally:
        dev.stop()


async def until(handle: WorkflowHandle[Any, Any], ready: Callable[[CaseStatus], bool]) -> CaseStatus:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while True:
        status: CaseStatus = await handle.query("status", result_type=CaseStatus)
        if ready(status):
            return status
        if loop.time() > deadline:
            pytest.fail(f"the case did not get there: {status.model_dump_json()}")
        await asyncio.sleep(0.05)


def event(data: dict[str, Any]) -> DeliverableEvent:
    parsed = parse_event(json.dumps(data))
    assert not isinstance(parsed, MeetingMissed)
    return parsed


def visit(case: DrillCase, n: int, clock: CaseClock) -> dict[str, Any]:
    return {"event_id": f"{case.meeting_id}-visit-{n}", "type": "citizen_attended", "meeting_id": case.meeting_id,
            "occurred_at": clock.now().isoformat(), "explanation": f"Kom forbi igen ({n})"}


async def test_a_long_case_continues_as_new_and_loses_nothing(server: DevServer, tmp_path: Path) -> None:
    keys, queue, clock = KeyRing.generate(), f"long-{uuid.uuid4()}", CaseClock.starting_now()
    client = await Client.connect(server.address, data_converter=data_converter(keys))
    outbox = Outbox(tmp_path / "outbox.sqlite")
    gateway = CaseGateway(client, load_policy(), task_queue=queue, update_timeout=timedelta(seconds=60))
    case = DrillCase(0, Script("long case", "jobparat", "registered", "citizen_responded", "sanction"),
                     f"L-{uuid.uuid4().hex[:8]}", "0101901234")
    missed = case.meeting_missed()

    async def deliver(data: dict[str, Any], want: str = "delivered") -> str:
        outcome = await gateway.deliver(event(data))
        assert outcome.kind == want, outcome.reason
        return outcome.reason

    async with make_worker(client, queue, CaseActivities(OutboxChannels(outbox)).all_activities()):
        handle = await client.start_workflow(
            "MissedMeetingWorkflow", CaseInput(case=missed, policy=gateway.snapshot_for(missed),
                                               clock_offset_seconds=clock.offset_seconds),
            id=workflow_id_for(case.meeting_id), task_queue=queue, result_type=CaseResult)
        first_run = handle.result_run_id
        await until(handle, lambda st: st.stage == "awaiting_answer")
        answer = case.answer(clock.now())
        await deliver(answer)
        await until(handle, lambda st: any(t.kind == "decision" for t in st.open_tasks))

        # while the decision is pending, the citizen keeps coming by (each visit is journaled) until the server
        # suggests a new run
        visits = 0
        while (await handle.describe()).run_id == first_run:
            visits += 1
            assert visits <= 40, "the server never suggested continue-as-new"
            await deliver(visit(case, visits, clock))
            await until(handle, lambda st: st.waiting_for.startswith("decision by a caseworker"))

        # the old run ended in continue-as-new, with a bounded history
        old = [e async for e in client.get_workflow_handle(handle.id, run_id=first_run).fetch_history_events()]
        assert old[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        assert len(old) < SUGGEST_AFTER_EVENTS + 20
        # the new run knows the old run's events (their update ids died with it): repeats are duplicates
        await deliver(answer, want="duplicate")
        await deliver(visit(case, 1, clock), want="duplicate")
        # and it goes on: the decision, its letter, the deduction (ended: the citizen came by), closed
        await deliver(case.decision(clock.now()))
        result = await asyncio.wait_for(handle.result(), PATIENCE)
        assert result.decision == "sanction"
        journal = (await handle.query("timeline", result_type=Timeline)).steps
    steps = [s["step"] for s in journal]
    assert steps[0] == "case_opened" and steps.count("case_opened") == 1 and steps[-1] == "case_closed"
    assert steps.count("citizen_attended") == visits and steps.count("response_received") == 1
    assert steps.count("hearing_letter_sent") == 1 and steps.count("decision_made") == 1
    assert steps.count("deduction_registered") == 1
    sent = actual_sends(outbox.items(meeting_id=case.meeting_id))
    extra, missing, lines = compare_sends(expected_sends(journal), sent)
    assert (extra, missing) == (0, 0), lines
