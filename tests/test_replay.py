"""`starter.py replay`: a history recorded from a real run replays on the current code, and a changed
workflow that would break running cases is caught."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory

from domain.policy import load_policy, snapshot
from replay.replayer import make_replayer, run_replay
from runtime.keys import KeyRing
from runtime.temporal import data_converter
from tests.changed_workflow import ChangedWorkflow
from tests.temporal_env import case_worker, start_env
from tests.test_case_updates import missed
from workflows.api import CaseInput, clock_offset, workflow_id_for


async def record_history(tmp_path: Path, keys: KeyRing) -> Path:
    env = await start_env(keys)
    async with env, case_worker(env, tmp_path / "outbox.sqlite") as (worker, _):
        event = missed("M-H1")
        offset = clock_offset(await env.get_current_time(), event.occurred_at)
        handle = await env.client.start_workflow(
            "MissedMeetingWorkflow",
            CaseInput(case=event, policy=snapshot(load_policy(), 2026), clock_offset_seconds=offset),
            id=workflow_id_for("M-H1"), task_queue=worker.task_queue,
        )
        await env.sleep(timedelta(days=12))  # hearing letter, deadline, decision task
        history = await handle.fetch_history()
        await handle.terminate("recorded")
    path = tmp_path / "missed-meeting-M-H1.json"
    path.write_text(history.to_json(), encoding="utf-8")  # the shape `temporal workflow show -o json` writes
    return path


@pytest.fixture(scope="module")
async def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, KeyRing]:
    keys = KeyRing.generate()
    return await record_history(tmp_path_factory.mktemp("histories"), keys), keys


async def test_recorded_history_replays_on_current_code(recorded: tuple[Path, KeyRing]) -> None:
    path, keys = recorded
    out = io.StringIO()
    code = await run_replay([path.parent], out=out, replayer=make_replayer(keys=keys))
    assert code == 0, out.getvalue()
    assert out.getvalue().startswith("OK   missed-meeting-M-H1")
    assert "1 replayed, 0 failed" in out.getvalue()


async def test_history_is_encrypted_at_rest(recorded: tuple[Path, KeyRing]) -> None:
    path, _ = recorded
    text = path.read_text(encoding="utf-8")
    assert "0101901234" not in text and "Jens Hansen" not in text
    assert "encryption-key-id" in text or "ZW5jcnlwdGlvbi1rZXktaWQ" in text  # metadata key, maybe base64


async def test_an_incompatible_change_fails_replay(recorded: tuple[Path, KeyRing]) -> None:
    path, keys = recorded
    from temporalio.worker import Replayer

    from runtime.worker import sandbox_runner

    changed = Replayer(workflows=[ChangedWorkflow], data_converter=data_converter(keys),
                       workflow_runner=sandbox_runner())
    out = io.StringIO()
    code = await run_replay([path], out=out, replayer=changed)
    assert code == 1
    assert out.getvalue().startswith("FAIL missed-meeting-M-H1")
    assert "Nondeterminism" in out.getvalue() or "nondeterminism" in out.getvalue().lower()


def test_history_file_shape_is_what_the_cli_writes(recorded: tuple[Path, KeyRing]) -> None:
    path, _ = recorded
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(raw["events"], list) and raw["events"][0]["eventType"] in {
        "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED", "WorkflowExecutionStarted"}
    assert WorkflowHistory.from_json("x", raw).events
