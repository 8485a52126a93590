"""The event intake against Temporal: the time-skipping server and a real worker running the real workflow.

What only Temporal can show: that cases start with their search attributes, that events reach their case
in order, that a second run of the same input is all duplicates, and that the case's own refusals (a task
that is not open, a forbidden decision, a closed case) come back as rejections with their reasons.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.policy import Policy
from intake import run_events
from tests.factories import CPR, default_policy, meeting_missed_data
from tests.temporal_env import case_worker, start_env
from workflows import search_attributes as sa
from workflows.api import CaseResult, Timeline, workflow_id_for

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
AT = "2026-03-04T10:00:00+01:00"
EXAMPLE_MEETINGS = [f"M-2026-000{n}" for n in range(1, 7)]


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await start_env() as environment:
        yield environment


@pytest.fixture
async def own_env() -> AsyncIterator[WorkflowEnvironment]:
    """A server of its own, for a test that skips time: other tests' cases, whose workers are gone, would
    have timers firing meanwhile and stall the skipping."""
    async with await start_env() as environment:
        yield environment


@pytest.fixture
def policy() -> Policy:
    return default_policy()


def with_prefix(source: Path, target: Path, prefix: str) -> Path:
    """A copy of an example file whose meeting ids carry `prefix`: each test gets cases of its own."""
    lines = []
    for raw in source.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            lines.append(raw)
            continue
        if isinstance(data, dict) and "meeting_id" in data:
            data["meeting_id"] = prefix + data["meeting_id"]
        lines.append(json.dumps(data, ensure_ascii=False))
    target.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return target


async def intake(env: WorkflowEnvironment, source: Path | str, task_queue: str, policy: Policy,
                 stdin: bytes | None = None, **options: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_events(str(source), env.client, policy=policy, out=out, err=err, task_queue=task_queue,
                            stdin=io.BytesIO(stdin) if stdin is not None else None, **options)
    return code, out.getvalue(), err.getvalue()


async def test_examples_start_cases_and_running_them_again_is_all_duplicates(
    env: WorkflowEnvironment, tmp_path: Path, policy: Policy
) -> None:
    prefix = f"a{uuid.uuid4().hex[:6]}-"
    events = with_prefix(EXAMPLES / "events.jsonl", tmp_path / "events.jsonl", prefix)
    async with case_worker(env, tmp_path / "outbox.sqlite") as (worker, _):
        code, out, err = await intake(env, events, worker.task_queue, policy)
        assert (code, err) == (0, "")
        assert out.startswith("read 11 event line(s): 6 case(s) started, 5 event(s) delivered, "
                              "0 duplicate(s), 0 rejected")

        first = env.client.get_workflow_handle(workflow_id_for(prefix + "M-2026-0001"))
        attributes = (await first.describe()).typed_search_attributes
        assert attributes.get(sa.READINESS) == "jobparat"
        assert attributes.get(sa.LEGAL_GROUND) == "jobsamtale"
        assert attributes.get(sa.CASE_ID) == "K-2026-0001"
        timeline = await first.query("timeline", result_type=Timeline)
        assert [s["step"] for s in timeline.steps].count("response_received") == 1

        cprs = [json.loads(line)["citizen"]["cpr"] for line in events.read_text(encoding="utf-8").splitlines()
                if '"meeting_missed"' in line]
        assert len(cprs) == len(EXAMPLE_MEETINGS)
        for meeting in EXAMPLE_MEETINGS:
            description = await env.client.get_workflow_handle(workflow_id_for(prefix + meeting)).describe()
            shown = description.id + repr(list(description.typed_search_attributes))
            assert "K-2026-" in shown and not any(cpr in shown for cpr in cprs)

        code, out, err = await intake(env, events, worker.task_queue, policy)
        assert (code, err) == (0, "")
        assert out.startswith("read 11 event line(s): 0 case(s) started, 0 event(s) delivered, "
                              "11 duplicate(s), 0 rejected")
        timeline = await first.query("timeline", result_type=Timeline)
        assert [s["step"] for s in timeline.steps].count("response_received") == 1
    assert not (tmp_path / "events.jsonl.rejects.jsonl").exists()


async def test_bad_events_are_rejected_by_line_number_with_reasons(
    env: WorkflowEnvironment, tmp_path: Path, policy: Policy
) -> None:
    prefix = f"b{uuid.uuid4().hex[:6]}-"
    events = with_prefix(EXAMPLES / "events.jsonl", tmp_path / "events.jsonl", prefix)
    bad = with_prefix(EXAMPLES / "bad-events.jsonl", tmp_path / "bad-events.jsonl", prefix)
    async with case_worker(env, tmp_path / "outbox.sqlite") as (worker, _):
        assert (await intake(env, events, worker.task_queue, policy))[0] == 0
        code, out, err = await intake(env, bad, worker.task_queue, policy)

    assert code == 2
    reported = err.splitlines()
    assert [line.split(":")[0] for line in reported] == [f"line {n}" for n in range(1, 8)]
    assert reported[0].startswith("line 1: not JSON")
    assert reported[1] == "line 2: type: unknown event type"
    assert reported[2] == "line 3: case_id: missing field"
    assert reported[3].startswith("line 4: citizen.readiness:")
    assert reported[4] == f"line 5: no case for meeting {prefix}M-2026-0999"
    assert reported[5].startswith("line 6: no home_visit task is open")
    assert reported[6].startswith("line 7: decision refused:")
    assert CPR in bad.read_text(encoding="utf-8") and CPR not in err + out

    rejects = tmp_path / "bad-events.jsonl.rejects.jsonl"
    assert f"rejected lines appended to {rejects}" in out
    records = [json.loads(r) for r in rejects.read_text(encoding="utf-8").splitlines()]
    assert [r["raw"] for r in records] == bad.read_text(encoding="utf-8").splitlines()
    assert [r["line"] for r in records] == list(range(1, 8))


async def test_an_event_for_an_unknown_meeting_is_rejected(
    env: WorkflowEnvironment, tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    line = json.dumps({"event_id": "r-1", "type": "citizen_attended", "occurred_at": AT,
                       "meeting_id": "M-nobody"})
    async with case_worker(env, tmp_path / "outbox.sqlite") as (worker, _):
        code, _, err = await intake(env, "-", worker.task_queue, policy, stdin=f"{line}\n".encode())
    assert (code, err) == (2, "line 1: no case for meeting M-nobody\n")
    assert json.loads((tmp_path / "rejects.jsonl").read_text(encoding="utf-8"))["raw"] == line


async def test_events_for_a_closed_case_are_rejected_and_old_ones_stay_duplicates(
    own_env: WorkflowEnvironment, tmp_path: Path, policy: Policy
) -> None:
    env = own_env
    meeting = f"M-c{uuid.uuid4().hex[:6]}"
    base = {"meeting_id": meeting, "occurred_at": AT}
    opening = [
        json.dumps(meeting_missed_data(meeting_id=meeting)),
        json.dumps(base | {"event_id": "r-1", "type": "citizen_responded", "channel": "phone",
                           "explanation": "Jeg var syg", "reasonable_cause": "illness"}),
        json.dumps(base | {"event_id": "d-1", "type": "task_completed", "task": "decision",
                           "outcome": "no_sanction_reasonable_cause", "by": "cw-17"}),
    ]
    first = tmp_path / "first.jsonl"
    first.write_text("".join(f"{line}\n" for line in opening), encoding="utf-8")
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps(base | {"event_id": "c-1", "type": "contact_restored"}) + "\n")

    async with case_worker(env, tmp_path / "outbox.sqlite") as (worker, _):
        code, out, err = await intake(env, first, worker.task_queue, policy)
        assert (code, err) == (0, "")
        assert "1 case(s) started, 2 event(s) delivered" in out
        # a handle from get_workflow_handle does not skip time while awaiting its result: sleep past the
        # decision letter's release (next working day, office hours), then the case has ended
        await env.sleep(timedelta(days=5))
        handle = env.client.get_workflow_handle(workflow_id_for(meeting), result_type=CaseResult)
        result = await asyncio.wait_for(handle.result(), timeout=30)
        assert result.decision == "no_sanction_reasonable_cause"

        code, out, err = await intake(env, later, worker.task_queue, policy)
        assert (code, err) == (2, f"line 1: the case for meeting {meeting} is closed\n")
        code, out, err = await intake(env, first, worker.task_queue, policy)
        assert (code, err) == (0, "")
        assert "3 duplicate(s)" in out


async def test_many_cases_at_once_keep_each_meetings_events_in_order(
    env: WorkflowEnvironment, tmp_path: Path, policy: Policy
) -> None:
    prefix = f"m{uuid.uuid4().hex[:6]}-"
    meetings = [f"{prefix}{n}" for n in range(24)]
    lines = [json.dumps(meeting_missed_data(meeting_id=m)) for m in meetings]
    for n, meeting in enumerate(meetings):  # every case: an answer, then turning up, in that order
        at = {"meeting_id": meeting, "occurred_at": AT}
        lines.append(json.dumps(at | {"event_id": f"r-{n}", "type": "citizen_responded", "channel": "email"}))
        lines.append(json.dumps(at | {"event_id": f"a-{n}", "type": "citizen_attended"}))
    source = tmp_path / "many.jsonl"
    source.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    async with case_worker(env, tmp_path / "outbox.sqlite") as (worker, _):
        code, out, err = await intake(env, source, worker.task_queue, policy)
        assert (code, err) == (0, "")
        assert out.startswith("read 72 event line(s): 24 case(s) started, 48 event(s) delivered")
        timeline = await env.client.get_workflow_handle(workflow_id_for(meetings[-1])).query(
            "timeline", result_type=Timeline)
        steps = [s["step"] for s in timeline.steps]
        assert steps.index("response_received") < steps.index("citizen_attended")


async def test_without_a_worker_the_run_stops_with_exit_1_and_says_why(
    env: WorkflowEnvironment, tmp_path: Path, policy: Policy
) -> None:
    meeting = f"M-w{uuid.uuid4().hex[:6]}"
    lines = [
        json.dumps(meeting_missed_data(meeting_id=meeting)),
        json.dumps({"event_id": "a-1", "type": "citizen_attended", "occurred_at": AT, "meeting_id": meeting}),
    ]
    source = tmp_path / "events.jsonl"
    source.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    queue = f"nobody-listens-{uuid.uuid4()}"
    code, out, err = await intake(env, source, queue, policy, update_timeout=timedelta(seconds=2))
    assert code == 1
    assert err == (f"line 2: stopped: no answer from the case for meeting {meeting} within 2 s; "
                   f"is a worker running on task queue {queue}?\n")
    assert "1 case(s) started" in out and "stopped at line 2" in out
    assert not (tmp_path / "events.jsonl.rejects.jsonl").exists()
