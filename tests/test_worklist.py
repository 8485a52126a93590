"""The caseworkers' worklist against a real dev server (visibility with the search attributes): list, claim,
assign, complete, and watch an overdue task escalate, through the same commands a caseworker types.

The dev server runs in real time, so each case gets a clock offset that puts it on a working morning, and the
policy gives decision tasks a due time of seconds: the escalation is real, only the hours are short.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

import starter
from activities.case_activities import CaseActivities
from activities.channels import OutboxChannels
from activities.outbox import Outbox
from domain.events import CitizenResponded, MeetingMissed, TaskKind
from domain.policy import Policy, load_policy, snapshot
from intake.gateway import CaseGateway
from runtime.binaries import temporal_cli_path
from runtime.keys import KEYS_ENV, KeyRing
from runtime.settings import Settings
from runtime.temporal import data_converter, ensure_search_attributes
from runtime.worker import make_worker
from tests.factories import meeting_missed_data
from workflows.api import CaseInput, CaseStatus, clock_offset, workflow_id_for

ROOT = Path(__file__).resolve().parent.parent
ABSENCE = datetime.fromisoformat("2026-03-02T10:00:00+01:00")  # a Monday
CASE_NOW = datetime.fromisoformat("2026-03-04T10:00:00+01:00")  # Wednesday morning: office hours
DECISION_DUE_HOURS = 0.004  # 14.4 seconds
PATIENCE = 60.0


def quick_policy() -> Policy:
    data = load_policy().model_dump(mode="json")
    data["tasks"] = {"due_working_hours_by_kind": {"decision": DECISION_DUE_HOURS}}
    return Policy.model_validate(data)


@pytest.fixture
async def system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Client, str]]:
    """A dev server with the search attributes, a real worker, and the CLI's environment pointing at them."""
    ring = KeyRing.generate()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli_path()), data_converter=data_converter(ring), ui=False,
        dev_server_log_level="error",
    )
    async with env:
        await ensure_search_attributes(env.client)
        queue = f"worklist-{uuid.uuid4()}"
        activities = CaseActivities(OutboxChannels(Outbox(tmp_path / "outbox.sqlite")))
        target = env.client.service_client.config.target_host
        monkeypatch.setenv("TEMPORAL_ADDRESS", target)
        monkeypatch.setenv(KEYS_ENV, ring.to_spec())
        monkeypatch.setenv("MISSED_MEETING_TASK_QUEUE", queue)
        monkeypatch.setenv("MISSED_MEETING_DATA_DIR", str(tmp_path / "data"))
        async with make_worker(env.client, queue, activities.all_activities()):
            yield env.client, queue


async def open_case(client: Client, queue: str, meeting_id: str) -> WorkflowHandle[Any, Any]:
    event = MeetingMissed.model_validate(meeting_missed_data(meeting_id=meeting_id, occurred_at=ABSENCE.isoformat()))
    server_now = datetime.now(UTC)
    offset = clock_offset(server_now, CASE_NOW)
    return await client.start_workflow(
        "MissedMeetingWorkflow",
        CaseInput(case=event, policy=snapshot(quick_policy(), 2026), clock_offset_seconds=offset),
        id=workflow_id_for(meeting_id), task_queue=queue,
    )


async def cli(*argv: str) -> tuple[int, str, str]:
    """Run a worklist command in-process, as `starter.py` would (parsing included)."""
    args = starter._parser().parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        settings = Settings.from_env()
        code = await (starter._tasks(args, settings) if args.command == "tasks" else starter._task(args, settings))
    return code, out.getvalue(), err.getvalue()


async def listed(*filters: str) -> list[dict[str, Any]]:
    code, out, _ = await cli("tasks", "--json", *filters)
    assert code == 0
    return [json.loads(line) for line in out.splitlines() if line.startswith("{\"meeting_id\"")]  # not worker logs


async def eventually(probe: Callable[[], Any], check: Callable[[Any], bool], what: str) -> Any:
    """Visibility is eventually consistent: ask again until the answer fits (or say what never came)."""
    deadline = asyncio.get_running_loop().time() + PATIENCE
    while True:
        value = await probe()
        if check(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: last answer {value!r}")
        await asyncio.sleep(0.5)


async def test_a_caseworkers_day_on_the_worklist(system: tuple[Client, str]) -> None:
    client, queue = system
    gateway = CaseGateway(client, quick_policy(), task_queue=queue)
    cases = [await open_case(client, queue, m) for m in ("M-WL-1", "M-WL-2")]
    try:
        for handle in cases:  # the citizens answered: each case opens its decision task at once
            meeting = handle.id.removeprefix("missed-meeting-")
            answer = CitizenResponded(event_id=f"answer-{meeting}", type="citizen_responded",
                                      occurred_at=CASE_NOW, meeting_id=meeting, channel="digital_post",
                                      explanation="Jeg var syg")
            assert (await gateway.deliver(answer)).kind == "delivered"

        rows = await eventually(lambda: listed("--kind", "decision"), lambda r: len(r) == 2, "two decision tasks")
        assert {r["meeting_id"] for r in rows} == {"M-WL-1", "M-WL-2"}
        assert all(r["assignee"] is None and r["due_at"] for r in rows)

        code, out, _ = await cli("task", "claim", "M-WL-1", "decision", "--by", "kw-ab")
        assert code == 0 and "assigned to kw-ab: recorded" in out
        code, out, _ = await cli("task", "assign", "M-WL-2", "decision", "kw-cd", "--by", "teamlead-ef")
        assert code == 0

        mine = await eventually(lambda: listed("--assignee", "kw-ab"), lambda r: len(r) == 1, "kw-ab's task")
        assert mine[0]["meeting_id"] == "M-WL-1"
        assert await listed("--unassigned") == []

        code, _, err = await cli("task", "claim", "M-WL-1", "home_visit", "--by", "kw-ab")
        assert code == 1 and "no home_visit task is open for this case (open tasks: decision)" in err
        code, _, err = await cli("task", "done", "M-WL-2", "decision", "maybe", "--by", "kw-cd")
        assert code == 2 and "task done: outcome is not one of sanction, no_sanction_reasonable_cause" in err

        overdue = await eventually(lambda: listed("--overdue", "--escalated"), lambda r: len(r) == 2,
                                   "both tasks overdue and escalated to their assignees")
        assert {(r["assignee"], r["escalated_to"]) for r in overdue} == {("kw-ab", "assignee"), ("kw-cd", "assignee")}
        assert all(r["overdue_hours"] is not None for r in overdue)

        code, out, _ = await cli("task", "done", "M-WL-1", "decision", "no_sanction_reasonable_cause",
                                 "--by", "kw-ab", "--note", "Lægeerklæring modtaget")
        assert code == 0 and "recorded" in out
        left = await eventually(lambda: listed(), lambda r: [x["meeting_id"] for x in r] == ["M-WL-2"],
                                "only M-WL-2's task left")
        assert left[0]["task"] == TaskKind.decision.value

        status = await cases[0].query("status", result_type=CaseStatus)
        assert status.decision == "no_sanction_reasonable_cause" and status.open_tasks == []
        timeline = (await cases[0].query("timeline", result_type=dict[str, Any]))["steps"]
        steps = [s["step"] for s in timeline]
        assert steps.index("task_assigned") < steps.index("task_escalated") < steps.index("decision_made")
        escalated = next(s for s in timeline if s["step"] == "task_escalated")
        assert escalated["to"] == "assignee" and escalated["assignee"] == "kw-ab"
    finally:
        for handle in cases:
            with contextlib.suppress(Exception):
                await handle.terminate("test over")


async def test_the_table_through_the_real_command_line(system: tuple[Client, str]) -> None:
    client, queue = system
    handle = await open_case(client, queue, "M-WL-3")
    try:
        gateway = CaseGateway(client, quick_policy(), task_queue=queue)
        answer = CitizenResponded(event_id="answer-M-WL-3", type="citizen_responded", occurred_at=CASE_NOW,
                                  meeting_id="M-WL-3", channel="email")
        assert (await gateway.deliver(answer)).kind == "delivered"
        await eventually(lambda: listed(), lambda r: len(r) == 1, "the decision task listed")

        def run() -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "starter.py", "tasks", "--kind", "decision"], cwd=ROOT,
                                  env=dict(os.environ), capture_output=True, text=True, timeout=120, check=False)

        done = await asyncio.to_thread(run)
        assert done.returncode == 0, done.stderr
        header, row = done.stdout.splitlines()[:2]
        assert header.split() == ["DUE", "OVERDUE", "TASK", "MEETING", "CASE", "ASSIGNEE", "ESCALATED", "STAGE"]
        assert "decision" in row and "M-WL-3" in row and "(team)" in row and "awaiting_decision" in row
        assert "1 open task(s)" in done.stdout
    finally:
        await handle.terminate("test over")


def test_overdue_is_measured_on_the_cases_clock() -> None:
    from workflows.api import OpenTaskView
    from worklist.listing import TaskFilter, render, rows_of

    offset = timedelta(days=300)
    now = CASE_NOW + timedelta(hours=2, minutes=5)
    status = CaseStatus(meeting_id="M-1", case_id="C-1", stage="awaiting_decision", now=CASE_NOW,
                        clock_offset_seconds=offset.total_seconds(), open_tasks=[
        OpenTaskView(kind="decision", key="k1", opened_at=CASE_NOW, attempt=1, due_at=CASE_NOW, assignee="kw-ab",
                     escalated_to="assignee"),
        OpenTaskView(kind="manual_delivery", key="k2", opened_at=CASE_NOW, attempt=1,
                     due_at=CASE_NOW + timedelta(days=1)),
    ])
    rows = rows_of(status, now + offset)  # the caller's clock: the server's, ahead of the case's
    assert rows[0].overdue == timedelta(hours=2, minutes=5) and rows[1].overdue is None
    assert [r.kind for r in rows if TaskFilter(overdue=True).accepts(r)] == ["decision"]
    assert [r.kind for r in rows if TaskFilter(unassigned=True).accepts(r)] == ["manual_delivery"]
    table = render(rows)
    assert "2h" in table.splitlines()[1] and "1 overdue" in table
    query = TaskFilter(kind="home_visit", assignee='x"y').visibility_query(now)
    assert 'PendingTasks = "home_visit"' in query and 'AssignedTo = "x\\"y"' in query
