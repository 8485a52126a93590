"""Building the worker: the case workflow, its activities, and a sandbox that passes pure modules through."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import sys
import tomllib
import types
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from types import CodeType
from typing import Any, ClassVar

from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.worker import Worker, WorkerDeploymentConfig
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows.missed_meeting import MissedMeetingWorkflow

WORKFLOWS: list[type] = [MissedMeetingWorkflow]

PASSTHROUGH = ("domain", "activities.models", "workflows.api", "workflows.search_attributes", "pydantic",
               "pydantic_core", "annotated_types", "holidays")
"""Pure, deterministic modules: imported once, not re-imported into every workflow's sandbox."""


class _CompiledOnceLoader(importlib.machinery.SourceFileLoader):
    """Loads a workflow module's source like Python does, but keeps the compiled code for the next sandbox.

    The sandbox imports the workflow module afresh for every workflow it runs (a new case, or a case that comes
    back into the cache). Python turns the source into code each time unless a `.pyc` file exists, and none
    does where bytecode is not written: the image sets PYTHONDONTWRITEBYTECODE and its code is read-only. That
    compile was a quarter of the worker's CPU per case (bench/perf_case.py). The module is still executed
    afresh in each sandbox, so nothing is shared between workflows but the immutable code object; the key holds
    the file's mtime and size, as a `.pyc` check would, so a changed file is compiled again.
    """

    _codes: ClassVar[dict[tuple[str, int, int], CodeType]] = {}

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        stat = os.stat(path)
        key = (path, stat.st_mtime_ns, stat.st_size)
        code = self._codes.get(key)
        if code is None:
            compiled = super().get_code(fullname)
            if compiled is None:  # a source loader always has code; keep mypy and the protocol honest
                raise ImportError(f"no code for {fullname}", name=fullname)
            code = self._codes[key] = compiled
        return code


class _WorkflowModuleFinder(importlib.abc.MetaPathFinder):
    """Gives the workflow modules (only those) the compile-once loader; every other import is left alone."""

    def __init__(self) -> None:
        self.modules: set[str] = set()

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.modules:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        plain_source = spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader
        if spec is None or not plain_source or spec.origin is None or spec.submodule_search_locations is not None:
            return spec
        return importlib.util.spec_from_file_location(fullname, spec.origin,
                                                      loader=_CompiledOnceLoader(fullname, spec.origin))


_FINDER = _WorkflowModuleFinder()


def compile_workflow_modules_once(workflows: Sequence[type]) -> None:
    """Route the sandbox's imports of these workflows' modules through `_CompiledOnceLoader` (idempotent)."""
    _FINDER.modules.update(w.__module__ for w in workflows if w.__module__ != "__main__")
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def sandbox_runner(workflows: Sequence[type] = ()) -> SandboxedWorkflowRunner:
    """The sandbox with our pure modules passed through; the workflow modules are compiled once per process."""
    compile_workflow_modules_once([*WORKFLOWS, *workflows])
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
        workflow_runner=sandbox_runner(workflows),
        max_cached_workflows=max_cached_workflows,
        **options,
    )
