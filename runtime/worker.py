"""Building the worker: the case workflow, its activities, and a sandbox that passes pure modules through."""

from __future__ import annotations

import importlib.metadata
import tomllib
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.worker import Worker, WorkerDeploymentConfig
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows.missed_meeting import MissedMeetingWorkflow

WORKFLOWS: list[type] = [MissedMeetingWorkflow]

PASSTHROUGH = ("domain", "activities.models", "workflows.api", "workflows.search_attributes", "pydantic",
               "pydantic_core", "annotated_types", "holidays")
"""Pure, deterministic modules: imported once, not re-imported into every workflow's sandbox."""


def sandbox_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH))


DEPLOYMENT_NAME = "missed-meeting"
"""The package's name; with the build id it names a worker version in the Web UI (`missed-meeting.0.1.0`)."""
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@lru_cache(maxsize=1)
def build_id() -> str:
    """The package version, so old and new workers (and which one completed each workflow task) can be told
    apart in the Web UI: installed metadata first, else pyproject.toml when run from a checkout."""
    try:
        return importlib.metadata.version(DEPLOYMENT_NAME)
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        return str(tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def deployment_config() -> WorkerDeploymentConfig:
    """Identify the build only. Versioning semantics stay off: with them on, the server would hand new cases
    only to a version someone has made current (`temporal worker deployment set-current-version`), and the
    embedded dev server and the tests do no such thing."""
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(deployment_name=DEPLOYMENT_NAME, build_id=build_id()),
        use_worker_versioning=False,
    )


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
    if not {"deployment_config", "build_id", "use_worker_versioning"} & options.keys():
        options = {**options, "deployment_config": deployment_config()}
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[*WORKFLOWS, *workflows],
        activities=list(activities),
        workflow_runner=sandbox_runner(),
        max_cached_workflows=max_cached_workflows,
        **options,
    )
