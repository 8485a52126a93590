"""`python starter.py simulate SCENARIO [--json OUT]`: play scenario cases through the real workflow code.

An embedded time-skipping Temporal server and an in-process worker run the real case workflow with its real
activities (the outbox under `data/simulation/` shows every letter, SMS and task that would have gone out).
Each case gets its own clock offset, so a case dated March 2026 runs on March 2026's calendar whatever the
server's own clock says, and all cases run side by side.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.events import MeetingMissed
from domain.policy import Policy, load_policy, snapshot
from runtime.binaries import test_server_path
from runtime.keys import KeyRing
from runtime.temporal import data_converter, ensure_search_attributes
from runtime.worker import make_worker
from simulation.activities import SimulationActivities
from simulation.driver import DriverInput, ScenarioDriverWorkflow, driver_id_for
from simulation.report import case_row, print_journals, print_table
from simulation.scenario import ScenarioCase, TimedEvent, load_scenarios
from workflows.api import CaseInput, CaseStatus, Timeline, clock_offset, workflow_id_for

MIN_HORIZON_DAYS = 45.0
"""How long after the absence a scenario is followed at least, when nothing else is scripted."""
TAIL_DAYS = 30.0


@dataclass
class Played:
    scenario: ScenarioCase
    start: MeetingMissed
    case: WorkflowHandle[Any, Any]
    driver: WorkflowHandle[Any, Any]


def _case_activities(client: Client, outbox_dir: Path) -> list[Any]:
    from activities.case_activities import CaseActivities
    from activities.channels import OutboxChannels
    from activities.outbox import Outbox

    real = CaseActivities(OutboxChannels(Outbox(outbox_dir / "outbox.sqlite")))
    sim = SimulationActivities(client, real.open_task)
    return [a for a in real.all_activities() if getattr(a, "__name__", "") != "open_task"] + [
        sim.open_task,
        sim.deliver,
    ]


async def simulate(scenario_path: Path, json_out: Path | None, *, policy: Policy | None = None,
                   data_dir: Path = Path("data"), out: TextIO = sys.stdout, journals: bool = True) -> int:
    """Play every case in the scenario file; print a table; write the timeline JSON if asked. Exit code."""
    cases = load_scenarios(scenario_path)
    policy = policy or load_policy()
    outbox_dir = data_dir / "simulation"
    if outbox_dir.exists():
        shutil.rmtree(outbox_dir)
    outbox_dir.mkdir(parents=True)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()),
        data_converter=data_converter(KeyRing.generate()),  # the embedded server dies with the run
    )
    async with env:
        await ensure_search_attributes(env.client)
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


def _write_timeline(path: Path, cases: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cases": cases}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


async def _start_all(env: WorkflowEnvironment, task_queue: str,
                     cases: list[tuple[ScenarioCase, MeetingMissed, list[TimedEvent]]],
                     policy: Policy) -> list[Played]:
    server_now = await env.get_current_time()
    played = []
    for scenario, start, events in cases:
        offset = clock_offset(server_now, start.occurred_at)
        snap = snapshot(policy, first_year=start.occurred_at.year)
        wid = workflow_id_for(start.meeting_id)
        last = max([(e.at - start.occurred_at).total_seconds() / 86400 for e in events], default=0.0)
        horizon = start.occurred_at + timedelta(days=max(MIN_HORIZON_DAYS, last + TAIL_DAYS))
        driver = await env.client.start_workflow(
            ScenarioDriverWorkflow.run,
            DriverInput(name=scenario.name, case_workflow_id=wid, meeting_id=start.meeting_id,
                        clock_offset_seconds=offset, policy=snap, events=events, caseworker=scenario.caseworker,
                        horizon=horizon),
            id=driver_id_for(wid), task_queue=task_queue,
        )
        case = await env.client.start_workflow(
            "MissedMeetingWorkflow", CaseInput(case=start, policy=snap, clock_offset_seconds=offset),
            id=wid, task_queue=task_queue,
        )
        played.append(Played(scenario, start, case, driver))
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
