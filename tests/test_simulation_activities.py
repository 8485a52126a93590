"""The simulation's wrapper around the real `open_task`: a task that opens after its scenario driver has finished
is still stored, and the activity completes instead of retrying (time skipping makes retries spin)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.case_activities import CaseActivities
from activities.channels import OutboxChannels
from activities.models import TaskNotice
from activities.outbox import Outbox
from domain.events import TaskKind
from simulation.activities import SimulationActivities
from tests.activity_builders import CPH, WF, case_ref
from tests.temporal_env import start_env


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await start_env()
    try:
        yield environment
    finally:
        await environment.shutdown()


async def test_a_task_opened_after_the_drivers_horizon_is_stored_and_completes(env: WorkflowEnvironment,
                                                                                tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    sim = SimulationActivities(env.client, CaseActivities(OutboxChannels(outbox)).open_task)
    notice = TaskNotice(idempotency_key=f"{WF}/task/home_visit/1", case=case_ref(), kind=TaskKind.home_visit,
                        opened_at=datetime(2026, 4, 20, 9, 0, tzinfo=CPH), summary="home visit")
    receipt = await ActivityEnvironment().run(sim.open_task, notice)  # no driver runs for this case
    assert receipt.idempotency_key == notice.idempotency_key and not receipt.duplicate
    assert outbox.get(notice.idempotency_key) is not None
