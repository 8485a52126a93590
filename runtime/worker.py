"""Building the worker: the case workflow, its activities, and a sandbox that passes pure modules through."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows.missed_meeting import MissedMeetingWorkflow

WORKFLOWS: list[type] = [MissedMeetingWorkflow]

PASSTHROUGH = ("domain", "activities.models", "workflows.api", "workflows.search_attributes", "pydantic",
               "pydantic_core", "annotated_types", "holidays")
"""Pure, deterministic modules: imported once, not re-imported into every workflow's sandbox."""


def sandbox_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH))


def make_worker(
    client: Client,
    task_queue: str,
    activities: Sequence[Callable[..., Any]],
    *,
    workflows: Sequence[type] = (),
    max_cached_workflows: int = 1000,
    **options: Any,
) -> Worker:
    """The one way workers are made, in production, simulation and tests alike."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[*WORKFLOWS, *workflows],
        activities=list(activities),
        workflow_runner=sandbox_runner(),
        max_cached_workflows=max_cached_workflows,
        **options,
    )
