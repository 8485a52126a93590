"""`python worker.py` as operators run it: Prometheus metrics with the business counters, and a clean SIGTERM.

The worker is the real entry point in a child process, on a free port on 127.0.0.1, against a time-skipping
server; the test plays one jobparat case to a sanction (hearing letter, deadline reminder, decision task,
the deduction-limit alarm, decision letter, payment notice) and scrapes the worker's endpoint.
"""

from __future__ import annotations

import asyncio
import re
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.events import TaskCompleted, TaskKind
from domain.policy import load_policy, snapshot
from runtime.keys import KeyRing
from runtime.settings import Settings
from runtime.telemetry import TelemetryError
from tests.processes import PATIENCE, Child, child_env, free_port
from tests.temporal_env import start_env
from tests.test_case_updates import missed
from workflows.api import CaseInput, CaseStatus, EventAck, Timeline, clock_offset, workflow_id_for

SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """The samples of one metric in Prometheus text, as (labels, value)."""
    found = []
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match and match["name"] == name:
            found.append((dict(LABEL.findall(match["labels"] or "")), float(match["value"])))
    return found


def total(text: str, name: str, **labels: str) -> float:
    return sum(value for got, value in samples(text, name) if labels.items() <= got.items())


@pytest.fixture
async def env_and_keys() -> AsyncIterator[tuple[WorkflowEnvironment, KeyRing]]:
    keys = KeyRing.generate()
    async with await start_env(keys) as environment:
        yield environment, keys


async def start_case(env: WorkflowEnvironment, task_queue: str, meeting: str) -> WorkflowHandle[Any, Any]:
    event = missed(meeting)
    offset = clock_offset(await env.get_current_time(), event.occurred_at)
    return await env.client.start_workflow(
        "MissedMeetingWorkflow",
        CaseInput(case=event, policy=snapshot(load_policy(), 2026), clock_offset_seconds=offset),
        id=workflow_id_for(meeting), task_queue=task_queue,
    )


async def until(handle: WorkflowHandle[Any, Any], ready: Callable[[CaseStatus], bool]) -> CaseStatus:
    """The case's status once ``ready`` holds: the worker is another process and may lag behind the clock."""
    async with asyncio.timeout(PATIENCE):
        while True:
            status = await handle.query("status", result_type=CaseStatus)
            if ready(status):
                return status
            await asyncio.sleep(0.1)  # polling interval, not a timing assumption


async def scrape(url: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return await response.text()


async def scrape_until(url: str, name: str, **labels: str) -> str:
    """Scrape until a counter shows up (the activity that records it may still be running)."""
    async with asyncio.timeout(PATIENCE):
        while True:
            text = await scrape(url)
            if total(text, name, **labels) > 0:
                return text
            await asyncio.sleep(0.2)  # polling interval, not a timing assumption


async def test_worker_metrics_show_business_counters_and_sigterm_drains(
    env_and_keys: tuple[WorkflowEnvironment, KeyRing], tmp_path: Path
) -> None:
    env, keys = env_and_keys
    port, task_queue = free_port(), f"metrics-{uuid.uuid4()}"
    worker = await Child.start("worker.py", env=child_env(
        TEMPORAL_ADDRESS=env.client.service_client.config.target_host,
        TEMPORAL_NAMESPACE=env.client.namespace,
        MISSED_MEETING_TASK_QUEUE=task_queue,
        MISSED_MEETING_PAYLOAD_KEYS=keys.to_spec(),
        MISSED_MEETING_DATA_DIR=str(tmp_path),
        MISSED_MEETING_METRICS_ADDRESS=f"127.0.0.1:{port}",
        MISSED_MEETING_SHUTDOWN_GRACE_SECONDS="20",
    ))
    metrics_url = f"http://127.0.0.1:{port}/metrics"
    try:
        await worker.wait_for_line('"worker started"')
        handle = await start_case(env, task_queue, "M-MET-1")
        await env.sleep(timedelta(days=12))  # hearing letter, reminder, deadline, decision task
        status = await until(handle, lambda s: any(t.kind == "decision" for t in s.open_tasks))
        assert status.wake_at is not None and status.waiting_for.startswith("decision by a caseworker")
        steps: list[str] = []
        for _ in range(4):  # the overdue decision task's escalations, then the deduction-limit alarm
            woke = status.wake_at
            assert woke is not None
            await env.sleep(woke - status.now + timedelta(hours=1))
            status = await until(handle, lambda s, woke=woke: s.wake_at != woke)  # type: ignore[misc]
            steps = [s["step"] for s in (await handle.query("timeline", result_type=Timeline)).steps]
            if "deduction_limit_alarm" in steps:
                break
        assert "deduction_limit_alarm" in steps and steps.count("task_escalated") == 2
        now = (await handle.query("status", result_type=CaseStatus)).now
        decision = TaskCompleted(event_id="d-1", type="task_completed", occurred_at=now, meeting_id="M-MET-1",
                                 task=TaskKind.decision, outcome="sanction")
        await handle.execute_update("complete_task", decision, id="d-1", result_type=EventAck)
        await env.sleep(timedelta(days=2))  # decision letter and payments in office hours
        await until(handle, lambda s: s.decision == "sanction")

        text = await scrape_until(metrics_url, "missed_meeting_payment_notices", kind="deduction_start")
        text = await scrape_until(metrics_url, "missed_meeting_decisions", outcome="sanction")
        assert total(text, "missed_meeting_letters_sent", kind="hearing", channel="digital_post",
                     recipient="citizen") == 1
        assert total(text, "missed_meeting_letters_sent", kind="decision", channel="digital_post") == 1
        assert total(text, "missed_meeting_decisions", kind="decision", outcome="sanction") == 1
        assert total(text, "missed_meeting_tasks_opened", kind="decision") == 1
        assert total(text, "missed_meeting_tasks_escalated", kind="decision", to="assignee") == 1
        assert total(text, "missed_meeting_tasks_escalated", kind="decision", to="team_lead") == 1
        assert total(text, "missed_meeting_contact_messages_sent", channel="nemsms") == 1  # the deadline reminder
        assert total(text, "missed_meeting_alarms") == 1
        assert total(text, "missed_meeting_payment_notices", kind="deduction_start") == 1
        assert all(labels.get("task_queue") == task_queue
                   for labels, _ in samples(text, "missed_meeting_letters_sent"))
        assert "temporal_activity_execution_latency_count" in text  # the SDK's own metrics are there too
        assert "0101901234" not in text
    finally:
        code = await worker.terminate()
    assert code == 0, worker.log
    assert '"worker stopping: draining in-flight activities"' in worker.log
    assert '"worker stopped"' in worker.log


async def test_worker_refuses_to_start_with_a_bad_setting(tmp_path: Path) -> None:
    worker = await Child.start("worker.py", env=child_env(
        MISSED_MEETING_METRICS_ADDRESS="not-an-address", MISSED_MEETING_DATA_DIR=str(tmp_path)))
    code = await worker.wait()
    assert code == 1
    assert "MISSED_MEETING_METRICS_ADDRESS" in worker.log and "Traceback" not in worker.log


def test_status_model_is_what_the_test_reads() -> None:
    """Guard: the fields the metrics test waits on exist (a rename would otherwise hang until the bound)."""
    assert {"open_tasks", "wake_at", "waiting_for", "decision", "now"} <= set(CaseStatus.model_fields)


def test_a_taken_metrics_port_is_an_error_only_when_asked_for() -> None:
    import worker

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        as_default = Settings.model_construct(_fields_set=set(), metrics_address=address)
        _, metrics = worker.sdk_runtime(as_default)
        assert metrics is None  # the worker runs, without metrics, and logs why
        explicit = Settings.model_validate({"MISSED_MEETING_METRICS_ADDRESS": address})
        with pytest.raises(TelemetryError, match=f"cannot serve Prometheus metrics on {address}"):
            worker.sdk_runtime(explicit)


async def test_the_worker_drains_for_the_configured_grace_period(
    env_and_keys: tuple[WorkflowEnvironment, KeyRing], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import worker

    monkeypatch.setenv("MISSED_MEETING_DATA_DIR", str(tmp_path))  # where the worker's outbox goes
    settings = Settings.model_validate({"MISSED_MEETING_SHUTDOWN_GRACE_SECONDS": "7.5"})
    built = worker.build_worker(env_and_keys[0].client, settings)
    assert built.config()["graceful_shutdown_timeout"] == timedelta(seconds=7.5)
    async with built:  # and it starts and stops cleanly with that setting
        pass
