"""The simulation's worker: `runtime.worker.make_worker`, optionally without the workflow sandbox.

The sandbox re-imports and proxies modules for every workflow run and guards every activation; production and
the tests keep it. A simulation is an ephemeral process on a throwaway server, playing workflow code that the
test suite has already run sandboxed, so it may trade that guard for speed (`--no-sandbox`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from runtime.worker import WORKFLOWS, deployment_config, make_worker


def simulation_worker(client: Client, task_queue: str, activities: Sequence[Callable[..., Any]], *,
                      workflows: Sequence[type] = (), sandbox: bool = True, **options: Any) -> Worker:
    """A worker built like production's; unsandboxed only when asked."""
    if sandbox:
        return make_worker(client, task_queue, activities, workflows=workflows, **options)
    options.setdefault("max_cached_workflows", 1000)
    return Worker(client, task_queue=task_queue, workflows=[*WORKFLOWS, *workflows], activities=list(activities),
                  workflow_runner=UnsandboxedWorkflowRunner(), deployment_config=deployment_config(), **options)
