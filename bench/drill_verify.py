"""After a drill: read every case back from the server and hold it against its control twin and the outbox.

Three readings of each case: its journal (the `timeline` query, as operators see it), its history replayed
from scratch with the current workflow code (as any worker will, after a restart or a cache eviction: a
history that does not replay is a case that will be stuck), and its outbox rows (bench.drill_check).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from temporalio.worker import Replayer

from activities.outbox import Outbox
from bench.drill_check import actual_sends, compare_sends, expected_sends
from bench.drill_driver import CaseRun, CaseStuck, Driver
from runtime.worker import WORKFLOWS, sandbox_runner
from workflows.api import CaseResult, Timeline

JOURNAL_PATIENCE = 60.0


@dataclass
class Verdict:
    lost: int = 0
    wrong_journals: int = 0
    unreplayable: int = 0
    duplicate_sends: int = 0
    missing_sends: int = 0
    outbox_rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.wrong_journals or self.unreplayable or self.duplicate_sends
                    or self.missing_sends)


async def journal(driver: Driver, run: CaseRun) -> list[dict[str, Any]] | str:
    """The case's journal steps, or why they could not be read."""
    handle = driver.client.get_workflow_handle(run.workflow_id, result_type=CaseResult)

    async def timeline() -> Timeline:
        result: Timeline = await handle.query("timeline", result_type=Timeline)
        return result

    try:
        return (await driver.patiently(run, time.monotonic() + JOURNAL_PATIENCE, timeline)).steps
    except CaseStuck as exc:
        return f"journal unreadable ({exc})"


async def replays(driver: Driver, replayer: Replayer, run: CaseRun) -> str | None:
    """None if the case's history replays with the current code, else the failure."""
    history = await driver.client.get_workflow_handle(run.workflow_id).fetch_history()
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return None if result.replay_failure is None else str(result.replay_failure)


async def verify(driver: Driver, outbox: Outbox, control: list[CaseRun], drill: list[CaseRun]) -> Verdict:
    verdict = Verdict()
    replayer = Replayer(workflows=WORKFLOWS, data_converter=driver.client.data_converter,
                        workflow_runner=sandbox_runner())
    for twin, run in zip(control, drill, strict=True):
        name = run.case.meeting_id
        if not run.completed:
            verdict.lost += 1
            verdict.problems.append(f"{name}: not completed: {'; '.join(run.errors) or 'unknown'}")
            continue
        failure = await replays(driver, replayer, run)
        if failure is not None:
            verdict.unreplayable += 1
            verdict.problems.append(f"{name}: history does not replay: {failure[:300]}")
        steps, want = await journal(driver, run), await journal(driver, twin)
        if isinstance(steps, str) or isinstance(want, str):
            verdict.wrong_journals += 1
            verdict.problems.append(f"{name}: {steps if isinstance(steps, str) else want}")
            continue
        got, expected = [s["step"] for s in steps], [s["step"] for s in want]
        if got != expected:
            verdict.wrong_journals += 1
            verdict.problems.append(f"{name}: journal {got} differs from its control twin's {expected}")
        extra, missing, lines = compare_sends(expected_sends(steps), actual_sends(outbox.items(meeting_id=name)))
        verdict.duplicate_sends += extra
        verdict.missing_sends += missing
        verdict.problems += [f"{name}: {line}" for line in lines]
    verdict.outbox_rows = len(outbox.items())
    return verdict
