"""The worker's compile-once loader (found by bench/perf_case.py): a workflow module re-imported for every
sandbox is compiled once per process, still executed afresh each time, and compiled again when its file changes."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import CodeType, ModuleType

import pytest

from runtime import worker

MODULE = "perf_compile_once_probe"
SOURCE = """
from temporalio import workflow

ANSWER = "{answer}"
EXECUTED = []
EXECUTED.append("once more")


@workflow.defn(name="ProbeWorkflow")
class ProbeWorkflow:
    @workflow.run
    async def run(self) -> str:
        return ANSWER
"""


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / f"{MODULE}.py"
    path.write_text(SOURCE.format(answer="first"), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield path
    sys.modules.pop(MODULE, None)
    worker._FINDER.modules.discard(MODULE)


def fresh_import() -> ModuleType:
    """What the sandbox does for every workflow: the module is not in (its) sys.modules, so it is imported anew."""
    sys.modules.pop(MODULE, None)
    return importlib.import_module(MODULE)


def test_a_workflow_module_is_compiled_once_but_executed_every_time(probe: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[str] = []
    original = worker._CompiledOnceLoader.source_to_code

    def counting(self: worker._CompiledOnceLoader, data: bytes, path: str, *, _optimize: int = -1) -> CodeType:
        compiled.append(path)
        return original(self, data, path)

    monkeypatch.setattr(worker._CompiledOnceLoader, "source_to_code", counting)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # as in the image: no .pyc to fall back on
    first = fresh_import()
    worker.compile_workflow_modules_once([first.ProbeWorkflow])

    modules = [fresh_import() for _ in range(3)]
    assert len(compiled) == 1
    assert len({id(m) for m in modules}) == 3  # each import executes the module into a new namespace
    assert all(m.EXECUTED == ["once more"] for m in modules)
    assert {type(m.__spec__.loader) for m in modules if m.__spec__} == {worker._CompiledOnceLoader}

    probe.write_text(SOURCE.format(answer="second, longer"), encoding="utf-8")
    stat = probe.stat()
    os.utime(probe, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    changed = fresh_import()
    assert len(compiled) == 2
    assert changed.ANSWER == "second, longer"


def test_other_modules_keep_the_ordinary_loader(probe: Path) -> None:
    worker.compile_workflow_modules_once([])
    assert worker._FINDER in sys.meta_path
    module = fresh_import()
    assert module.__spec__ is not None and type(module.__spec__.loader) is not worker._CompiledOnceLoader
