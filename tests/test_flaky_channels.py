"""A flaky outbound channel under the real workflow: SF1601 (a fake Serviceplatformen) failing transiently
and permanently, on the time-skipping server.

Transient failures (5xx, 408, a dropped connection) are retried with backoff and the letter arrives once,
under one key and one MeMo messageUUID. A permanent failure (400, invalid recipient) is not retried, and says
why without the CPR number. What the case does next is the open point: today the workflow fails; the issue
asks for a caseworker task instead (manual_delivery), tested below.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError, RetryState
from temporalio.testing import WorkflowEnvironment

from activities.channels import Channels, ChannelSettings, build_channels
from activities.memo import message_uuid
from activities.outbox import Outbox
from activities.sf1601 import PERMANENT, Sf1601Settings
from domain.events import TaskCompleted
from tests.case_handles import journal, missed, open_kinds, settled, start_case, worker_on
from tests.factories import CPR
from tests.fake_sf1601 import DROP, FakeServiceplatformen, StaticAccess, serve_fake
from tests.temporal_env import start_env
from workflows.api import EventAck

HEARING_KEY = "missed-meeting-{meeting}/hearing_letter/citizen/digital_post"


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await start_env() as environment:
        yield environment


@pytest.fixture
def fake() -> Iterator[FakeServiceplatformen]:
    with serve_fake() as state:
        yield state


def sf1601(tmp_path: Path, fake: FakeServiceplatformen) -> Channels:
    cert = tmp_path / "cert.pem"
    cert.write_text("not a real certificate\n")  # requests wants the file; plain HTTP never reads it
    settings = ChannelSettings(channel="sf1601", data_dir=tmp_path,
                               sf1601=Sf1601Settings(cvr="12345678", cert_path=str(cert), physical_mail_type=123))
    return build_channels(settings, access=StaticAccess(fake.url, str(cert)))


async def send_letter_events(env: WorkflowEnvironment, workflow_id: str) -> tuple[HistoryEvent, HistoryEvent]:
    """The hearing letter activity's scheduled and started events (Temporal records the last attempt)."""
    handle = env.client.get_workflow_handle(workflow_id)
    scheduled = started = None
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED and scheduled is None:
            assert event.activity_task_scheduled_event_attributes.activity_type.name == "send_letter"
            scheduled = event
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED and started is None:
            started = event
    assert scheduled is not None and started is not None
    return scheduled, started


async def test_transient_failures_are_retried_with_backoff_and_the_letter_arrives_once(
    env: WorkflowEnvironment, tmp_path: Path, fake: FakeServiceplatformen
) -> None:
    fake.script += [(500, "internal error"), (503, "busy"), (DROP, ""), (408, "request timeout")]
    meeting, queue = f"M-flaky-{uuid.uuid4().hex[:6]}", f"flaky-{uuid.uuid4()}"
    async with worker_on(env, queue, tmp_path / "outbox.sqlite", channels=sf1601(tmp_path, fake)):
        handle = await start_case(env, queue, missed(meeting, nemsms=False))
        await env.sleep(timedelta(days=1))  # the letter's release, and the retries' backoff timers
        await settled(handle, lambda st: st.stage != "hearing")
        steps = await journal(handle)
        await handle.terminate("test done")

    assert [s["step"] for s in steps].count("hearing_letter_sent") == 1
    assert len(fake.requests) == 5  # four failures, then the letter
    assert len({r.body for r in fake.requests}) == 1  # the same message every time, so Digital Post can dedupe
    assert message_uuid(HEARING_KEY.format(meeting=meeting)) in fake.requests[0].body
    rows = Outbox(tmp_path / "outbox.sqlite").items(meeting_id=meeting, kind="hearing_letter")
    assert [(r.status, r.idempotency_key) for r in rows] == [("sent", HEARING_KEY.format(meeting=meeting))]

    scheduled, started = await send_letter_events(env, handle.id)
    assert started.activity_task_started_event_attributes.attempt == 5
    waited = started.event_time.ToDatetime() - scheduled.event_time.ToDatetime()
    assert waited >= timedelta(seconds=5 + 10 + 20 + 40)  # OUTBOUND_RETRY: 5 s, doubling


async def test_a_permanent_failure_is_not_retried_and_says_why_without_the_cpr(
    env: WorkflowEnvironment, tmp_path: Path, fake: FakeServiceplatformen
) -> None:
    fake.script.append((400, f"Invalid recipient: CPR {CPR} is not registered for Digital Post"))
    meeting, queue = f"M-dead-{uuid.uuid4().hex[:6]}", f"flaky-{uuid.uuid4()}"
    async with worker_on(env, queue, tmp_path / "outbox.sqlite", channels=sf1601(tmp_path, fake)):
        handle = await start_case(env, queue, missed(meeting, nemsms=False))
        await env.sleep(timedelta(days=1))
        failed = [e async for e in handle.fetch_history_events()
                  if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED]
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            await handle.terminate("test done")

    assert len(failed) == 1 and len(fake.requests) == 1  # tried once, not again
    attributes = failed[0].activity_task_failed_event_attributes
    assert attributes.retry_state == RetryState.NON_RETRYABLE_FAILURE
    cause = await env.client.data_converter.decode_failure(attributes.failure)
    assert isinstance(cause, ApplicationError) and cause.type == PERMANENT and cause.non_retryable
    assert "HTTP 400" in cause.message and "Invalid recipient" in cause.message and CPR not in cause.message
    row = Outbox(tmp_path / "outbox.sqlite").get(HEARING_KEY.format(meeting=meeting))
    assert row is not None and row.status == "failed" and CPR not in (row.status_note or "")


async def test_a_permanent_failure_opens_a_caseworker_task_and_the_case_goes_on(
    env: WorkflowEnvironment, tmp_path: Path, fake: FakeServiceplatformen
) -> None:
    fake.script.append((400, f"Invalid recipient: CPR {CPR} is not registered for Digital Post"))
    meeting, queue = f"M-manual-{uuid.uuid4().hex[:6]}", f"flaky-{uuid.uuid4()}"
    async with worker_on(env, queue, tmp_path / "outbox.sqlite", channels=sf1601(tmp_path, fake)):
        handle = await start_case(env, queue, missed(meeting, nemsms=False))
        await env.sleep(timedelta(days=1))
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        status = await settled(handle, lambda st: "manual_delivery" in open_kinds(st))
        assert status.deadline is None  # not heard yet: no deadline runs on a letter that never arrived
        failure = next(s for s in await journal(handle) if s["step"] == "letter_delivery_failed")
        assert failure["channel"] == "digital_post" and failure["to"] == "citizen"
        assert "HTTP 400" in failure["reason"] and CPR not in str(failure)
        tasks = Outbox(tmp_path / "outbox.sqlite").items(meeting_id=meeting, kind="task")
        assert [t.payload["task"] for t in tasks] == ["manual_delivery"]

        # the caseworker delivers the letter by other means; from then on the hearing runs as usual
        delivered = TaskCompleted.model_validate({
            "event_id": "md-1", "type": "task_completed", "occurred_at": "2026-03-03T11:00:00+01:00",
            "meeting_id": meeting, "task": "manual_delivery", "outcome": "delivered", "by": "cw-17"})
        await handle.execute_update("complete_task", delivered, id="md-1", result_type=EventAck)
        status = await settled(handle, lambda st: st.deadline is not None)
        assert status.stage == "awaiting_answer"
        await handle.terminate("test done")
