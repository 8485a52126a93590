"""Hostile input against the real case: forged task outcomes, premature decisions, repeats, events for a
meeting without a case and for a closed case, fed through `starter.py events`' code path to the real
workflow on the time-skipping server. Generated with hypothesis, a few examples only (each is a case).

Every forged line is rejected with a reason and documented where the law wants it (a refused decision is
journaled); a repeat is a duplicate; the case neither fails nor takes a forged outcome; no CPR is echoed.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from intake import run_events
from tests.case_handles import steps, worker_on
from tests.factories import CPR, default_policy, meeting_missed_data
from tests.temporal_env import start_env
from workflows.api import CaseResult, workflow_id_for

CPR_SHAPES = re.compile(r"\d{10}|\d{6}-\d{4}")


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await start_env() as environment:
        yield environment


@pytest.fixture(scope="module")
async def worker(env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Worker]:
    async with worker_on(env, f"hostile-{uuid.uuid4()}", tmp_path_factory.mktemp("hostile") / "outbox.sqlite") as w:
        yield w


FORGED_TASKS = [("phone_call", "reached"), ("home_visit", "contact_made"), ("representative", "contact_made"),
                ("reassessment", "annul")]
DECISIONS = ["sanction", "no_sanction_reasonable_cause", "no_sanction_other"]

# what a line is, and the words its rejection must contain
hostile_line = st.one_of(
    st.sampled_from(FORGED_TASKS).map(lambda t: ("task", t, "task is open")),
    st.sampled_from(DECISIONS).map(lambda d: ("decision", d, "decision refused")),
    st.just(("ghost", None, "no case for meeting")),
    st.just(("garbage", None, "not JSON")),
)


def line_for(kind: str, what: Any, meeting: str, n: int, at: str) -> str:
    base = {"event_id": f"h-{n}", "occurred_at": at, "meeting_id": meeting}
    match kind:
        case "task":
            return json.dumps(base | {"type": "task_completed", "task": what[0], "outcome": what[1], "by": "x"})
        case "decision":
            return json.dumps(base | {"type": "task_completed", "task": "decision", "outcome": what, "by": "x"})
        case "ghost":
            return json.dumps(base | {"type": "citizen_attended", "meeting_id": f"nobody-{meeting}"})
        case _:
            return f'{{"event_id": "h-{n}", "cpr": "{CPR}", '  # cut off mid-line, with a CPR number in it


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


async def feed(env: WorkflowEnvironment, worker: Worker, path: Path, lines: list[str]) -> tuple[int, list[str]]:
    write_lines(path, lines)
    out, err = io.StringIO(), io.StringIO()
    code = await run_events(str(path), env.client, policy=default_policy(), out=out, err=err,
                            task_queue=worker.task_queue, update_timeout=timedelta(seconds=60))
    assert CPR_SHAPES.search(out.getvalue() + err.getvalue()) is None
    return code, err.getvalue().splitlines()


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(hostile=st.lists(hostile_line, min_size=1, max_size=6), repeats=st.lists(st.integers(0, 5), max_size=3))
async def test_forged_and_repeated_events_are_refused_and_the_case_goes_on(
    env: WorkflowEnvironment, worker: Worker, tmp_path: Path, hostile: list[tuple[str, Any, str]],
    repeats: list[int],
) -> None:
    meeting = f"H-{uuid.uuid4().hex[:8]}"
    absence = await env.get_current_time() - timedelta(hours=1)
    at = absence.isoformat()
    lines = [json.dumps(meeting_missed_data(meeting_id=meeting, occurred_at=at, event_id=f"{meeting}-m"))]
    expected: dict[int, str] = {}  # line number -> words in its rejection
    for n, (kind, what, words) in enumerate(hostile):
        lines.append(line_for(kind, what, meeting, n, at))
        expected[len(lines)] = words
    for r in repeats:  # the same event again: a duplicate, never a second effect
        if r < len(hostile) and hostile[r][0] in {"task", "decision"}:
            lines.append(lines[r + 1])
    code, reported = await feed(env, worker, tmp_path / f"{meeting}.jsonl", lines)

    assert code == 2
    assert [int(r.split(":")[0].removeprefix("line ")) for r in reported] == sorted(expected)
    for report in reported:
        number, reason = report.split(": ", 1)
        assert expected[int(number.removeprefix("line "))] in reason, report
    handle = env.client.get_workflow_handle(workflow_id_for(meeting), result_type=CaseResult)
    try:
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        names = await steps(handle)
        forged_decisions = {n for n, (kind, _, _) in enumerate(hostile) if kind == "decision"}
        assert names.count("decision_rejected") == len(forged_decisions)
        assert not {"decision_made", "phone_call", "home_visit", "representative_contacted",
                    "reassessment_made"} & set(names)

        # the citizen answers, a caseworker decides lawfully, the case closes; later events find it closed
        answer = {"event_id": f"{meeting}-r", "type": "citizen_responded", "occurred_at": at, "meeting_id": meeting,
                  "channel": "phone", "reasonable_cause": "illness"}
        decision = {"event_id": f"{meeting}-d", "type": "task_completed", "occurred_at": at, "meeting_id": meeting,
                    "task": "decision", "outcome": "no_sanction_reasonable_cause", "by": "cw-1"}
        code, reported = await feed(env, worker, tmp_path / "ok.jsonl", [json.dumps(answer), json.dumps(decision)])
        assert (code, reported) == (0, [])
        await env.sleep(timedelta(days=4))  # the decision letter goes out in office hours, then the case closes
        assert (await handle.result()).decision == "no_sanction_reasonable_cause"
        late = [line_for(kind, what, meeting, 100 + n, at) for n, (kind, what, _) in enumerate(hostile)]
        code, reported = await feed(env, worker, tmp_path / "late.jsonl", [*late, json.dumps(answer)])
        assert code == 2
        reasons = [r.split(": ", 1)[1] for r in reported]
        assert all("is closed" in r or "no case" in r or "not JSON" in r for r in reasons), reasons
        assert len(reasons) == len(late)  # the repeated answer is a duplicate, not a rejection
    finally:
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            await handle.terminate("test done")  # an open case would stall the shared server's clock
