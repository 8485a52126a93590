"""`python starter.py replay PATH...`: prove that new workflow code can carry the cases already running.

Histories are the JSON that `temporal workflow show --output json` or the Web UI's download writes. They are
replayed with the worker's own data converter and sandbox, so what passes here replays in production.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from runtime.keys import KeyRing
from runtime.temporal import data_converter
from runtime.worker import WORKFLOWS, sandbox_runner


@dataclass(frozen=True)
class ReplayOutcome:
    source: str
    workflow_id: str
    events: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def history_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a folder means every `*.json` in it, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.glob("*.json")))
        else:
            found.append(path)
    return found


def load_history(path: Path) -> WorkflowHistory:
    """Read one exported history; the workflow id comes from the file if present, else its name."""
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    workflow_id = str(raw.get("workflowId") or raw.get("workflow_id") or path.stem)
    return WorkflowHistory.from_json(workflow_id, raw)


def make_replayer(extra_workflows: Iterable[type] = (), keys: KeyRing | None = None) -> Replayer:
    """A replayer with the worker's workflows, sandbox and converter (the configured keys unless given)."""
    return Replayer(
        workflows=[*WORKFLOWS, *extra_workflows],
        data_converter=data_converter(keys),
        workflow_runner=sandbox_runner(),
    )


async def replay_files(paths: list[Path], replayer: Replayer | None = None) -> list[ReplayOutcome]:
    replayer = replayer or make_replayer()
    outcomes = []
    for path in history_files(paths):
        try:
            history = load_history(path)
        except (OSError, ValueError, KeyError) as exc:
            outcomes.append(ReplayOutcome(str(path), path.stem, 0, f"cannot read history: {exc}"))
            continue
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        failure = result.replay_failure
        error = None if failure is None else f"{type(failure).__name__}: {failure}"
        outcomes.append(ReplayOutcome(str(path), history.workflow_id, len(history.events), error))
    return outcomes


async def run_replay(paths: list[Path], out: TextIO = sys.stdout, replayer: Replayer | None = None) -> int:
    """One line per history; exit 1 if any history does not replay."""
    outcomes = await replay_files(paths, replayer)
    if not outcomes:
        print("no histories found", file=out)
        return 1
    for o in outcomes:
        verdict = "OK  " if o.ok else "FAIL"
        line = f"{verdict} {o.workflow_id}  {o.events} events  {o.source}"
        print(line if o.ok else f"{line}\n     {o.error}", file=out)
    failed = sum(not o.ok for o in outcomes)
    print(f"{len(outcomes) - failed} replayed, {failed} failed", file=out)
    return 1 if failed else 0
