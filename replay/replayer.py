"""`python starter.py replay PATH... | --query QUERY`: prove that new workflow code can carry the cases already running.

Histories are the JSON that `temporal workflow show --output json` or the Web UI's download writes, or come
straight from a server's visibility query. They are replayed with the worker's own data converter and sandbox,
so what passes here replays in production. One line a history: OK, or where and why it diverged.
"""

from __future__ import annotations

import json
import re
import sys
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from temporalio.client import Client, WorkflowHistory
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
    """Files as given; a folder means every `*.json` in it and its subfolders (one set per folder), sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.rglob("*.json")))
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


# -- saying what went wrong -----------------------------------------------------------------------------------
_CORE_MESSAGE = re.compile(r'message: "(.*?)", source: ')
_EVENT = re.compile(r"HistoryEvent\(id: (\d+), (\w+)\)")
_PATCH = re.compile(r"patch marker encountered for change (\S+?),")


def diverged_at(message: str, history: WorkflowHistory) -> str | None:
    """The history event where replay left the recorded path, when the SDK's message lets us tell: it names
    the event for a mismatched command, and the patch id for a patch marker the code no longer asks for."""
    event = _EVENT.search(message)
    if event:
        return f"event {event.group(1)} ({event.group(2)})"
    patch = _PATCH.search(message)
    if patch:
        for e in history.events:
            if e.HasField("marker_recorded_event_attributes") and patch.group(1).encode() in e.SerializeToString():
                return f"event {e.event_id} (MarkerRecorded {patch.group(1)})"
    return None


def describe_failure(failure: Exception, history: WorkflowHistory) -> str:
    """One readable line: the kind of failure, where it diverged if known, and the core's own message."""
    text = str(failure)
    core = _CORE_MESSAGE.search(text)
    message = core.group(1) if core else text
    if message == "Encoded failure":  # our codec encrypts failures too; the SDK has logged the exception
        message = "the workflow code raised an exception while replaying (its traceback is in the log above)"
    where = diverged_at(message, history)
    return f"{type(failure).__name__}{f' at {where}' if where else ''}: {message}"


# -- replaying ------------------------------------------------------------------------------------------------
async def replay_all(histories: AsyncIterator[tuple[str, WorkflowHistory]],
                     replayer: Replayer) -> AsyncIterator[ReplayOutcome]:
    """Replay (source, history) pairs on one replay worker, yielding each outcome as soon as it is known."""
    sources: deque[str] = deque()

    async def only_histories() -> AsyncIterator[WorkflowHistory]:
        async for source, history in histories:
            sources.append(source)
            yield history

    async with replayer.workflow_replay_iterator(only_histories()) as results:
        async for result in results:  # in the order the histories went in
            failure = result.replay_failure
            error = None if failure is None else describe_failure(failure, result.history)
            yield ReplayOutcome(sources.popleft(), result.history.workflow_id, len(result.history.events), error)


async def _from_files(files: list[Path], unreadable: list[ReplayOutcome]) -> AsyncIterator[tuple[str, WorkflowHistory]]:
    for path in files:
        try:
            yield str(path), load_history(path)
        except (OSError, ValueError, KeyError) as exc:
            unreadable.append(ReplayOutcome(str(path), path.stem, 0, f"cannot read history: {exc}"))


async def _from_query(client: Client, query: str, limit: int | None) -> AsyncIterator[tuple[str, WorkflowHistory]]:
    async for execution in client.list_workflows(query, limit=limit):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        yield f"run {execution.run_id}", await handle.fetch_history()


async def replay_files(paths: list[Path], replayer: Replayer | None = None) -> list[ReplayOutcome]:
    unreadable: list[ReplayOutcome] = []
    outcomes = [o async for o in replay_all(_from_files(history_files(paths), unreadable),
                                            replayer or make_replayer())]
    return unreadable + outcomes


# -- the command ----------------------------------------------------------------------------------------------
async def _report(outcomes: AsyncIterator[ReplayOutcome], out: TextIO, extra: Iterable[ReplayOutcome] = ()) -> int:
    """One line per history (a second, indented line says why it failed); exit 1 if any failed or none came."""
    total = failed = 0

    def show(o: ReplayOutcome) -> None:
        nonlocal total, failed
        total += 1
        failed += not o.ok
        line = f"{'OK  ' if o.ok else 'FAIL'} {o.workflow_id}  {o.events} events  {o.source}"
        print(line if o.ok else f"{line}\n     {o.error}", file=out, flush=True)

    async for outcome in outcomes:
        show(outcome)
    for outcome in extra:
        show(outcome)
    if not total:
        print("no histories found", file=out)
        return 1
    print(f"{total - failed} replayed, {failed} failed", file=out)
    return 1 if failed else 0


async def run_replay(paths: list[Path], out: TextIO = sys.stdout, replayer: Replayer | None = None) -> int:
    """Replay history files (folders: every `*.json` below them)."""
    unreadable: list[ReplayOutcome] = []
    histories = _from_files(history_files(paths), unreadable)
    return await _report(replay_all(histories, replayer or make_replayer()), out, unreadable)


async def run_replay_query(client: Client, query: str, out: TextIO = sys.stdout, replayer: Replayer | None = None,
                           limit: int | None = None) -> int:
    """Replay every workflow a visibility query finds, e.g. `WorkflowType="MissedMeetingWorkflow" AND
    ExecutionStatus="Running"`, fetching each history from the server."""
    return await _report(replay_all(_from_query(client, query, limit), replayer or make_replayer()), out)
