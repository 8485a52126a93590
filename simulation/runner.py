"""`python starter.py simulate SCENARIO [--json OUT]`: play scenario cases through the real workflow code.

An embedded time-skipping Temporal server and an in-process worker run the real case workflow with its real
activities (the outbox under `data/simulation/` shows every letter, SMS and task that would have gone out).
Each case gets its own clock offset, so a case dated March 2026 runs on March 2026's calendar whatever the
server's own clock says, and all cases run side by side.

This is the contract's `simulate SCENARIO [--json OUT]`: every case's journal, as the `timeline` query gives it.
Generated populations, reports and policy comparisons (`--generate`, `--report`, `--compare`) play through the
same driver and case start in batches: simulation/forecast.py and simulation/engine.py.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.events import MeetingMissed
from domain.policy import Policy, load_policy
from runtime.worker import make_worker
from simulation.driver import ScenarioDriverWorkflow
from simulation.engine import Snapshots, case_activities, start_case, start_server
from simulation.report import case_row, print_journals, print_table
from simulation.scenario import Prepared, ScenarioCase, load_scenarios
from workflows.api import CaseStatus, Timeline


@dataclass
class Played:
    scenario: ScenarioCase
    start: MeetingMissed
    case: WorkflowHandle[Any, Any]
    driver: WorkflowHandle[Any, Any]


async def simulate(scenario_path: Path, json_out: Path | None, *, policy: Policy | None = None,
                   data_dir: Path = Path("data"), out: TextIO = sys.stdout, journals: bool = True) -> int:
    """Play every case in the scenario file; print a table; write the timeline JSON if asked. Exit code."""
    cases = load_scenarios(scenario_path)
    policy = policy or load_policy()
    outbox_dir = data_dir / "simulation"
    if outbox_dir.exists():
        shutil.rmtree(outbox_dir)
    outbox_dir.mkdir(parents=True)
    env = await start_server()  # payloads encrypted with a throwaway key: the embedded server dies with the run
    async with env:
        task_queue = "simulation"
        activities = _case_activities(env.client, outbox_dir)
        async with make_worker(env.client, task_queue, activities, workflows=[ScenarioDriverWorkflow]):
            played = await _start_all(env, task_queue, cases, policy)
            for p in played:
                await p.driver.result()
            results = [await _collect(p) for p in played]
    print_table([r[1] for r in results], out)
    if journals:
        print_journals([r[0] for r in results], out)
    print(f"\noutbox (what would have been sent): {outbox_dir / 'outbox.sqlite'}", file=out)
    if json_out is not None:
        _write_timeline(json_out, [r[0] for r in results])
        print(f"timeline: {json_out}", file=out)
    return 0


def _case_activities(client: Client, outbox_dir: Path) -> list[Any]:
    """The activities with an outbox in `outbox_dir` (replay/record.py records golden histories with these)."""
    return case_activities(client, outbox_dir / "outbox.sqlite")


def _write_timeline(path: Path, cases: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cases": cases}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


async def _start_all(env: WorkflowEnvironment, task_queue: str, cases: list[Prepared], policy: Policy
                     ) -> list[Played]:
    server_now = await env.get_current_time()
    snaps = Snapshots(policy)
    played = []
    for prepared in cases:
        case, driver = await start_case(env.client, task_queue, server_now, prepared, snaps)
        played.append(Played(prepared[0], prepared[1], case, driver))
    return played


async def _collect(p: Played) -> tuple[dict[str, Any], dict[str, Any]]:
    timeline = await p.case.query("timeline", result_type=Timeline)
    status = await p.case.query("status", result_type=CaseStatus)
    entry = {
        "name": p.scenario.name,
        "meeting_id": p.start.meeting_id,
        "workflow_id": timeline.workflow_id,
        "steps": timeline.steps,
        "outcome": timeline.outcome.model_dump(mode="json") if timeline.outcome else None,
        "status": {"stage": status.stage, "closed": status.closed, "waiting_for": status.waiting_for},
    }
    return entry, case_row(p.scenario.name, p.start, timeline, status)
