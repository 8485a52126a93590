"""Temporal test plumbing: the time-skipping server and a real worker with real activities on a local outbox."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.case_activities import CaseActivities
from activities.channels import OutboxChannels
from activities.outbox import Outbox
from runtime.binaries import test_server_path
from runtime.keys import KeyRing
from runtime.temporal import data_converter, ensure_search_attributes
from runtime.worker import make_worker


async def start_env(keys: KeyRing | None = None) -> WorkflowEnvironment:
    """A fresh time-skipping server; payloads encrypted with `keys` (a throwaway ring by default)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()),
        data_converter=data_converter(keys or KeyRing.generate()),
    )
    await ensure_search_attributes(env.client)
    return env


@asynccontextmanager
async def case_worker(env: WorkflowEnvironment, outbox_path: Path) -> AsyncIterator[tuple[Worker, Outbox]]:
    """A real worker on a fresh task queue, its activities writing a real outbox."""
    outbox = Outbox(outbox_path)
    activities = CaseActivities(OutboxChannels(outbox))
    async with make_worker(env.client, f"test-{uuid.uuid4()}", activities.all_activities()) as worker:
        yield worker, outbox
