"""`python -m replay.record OUT_DIR SCENARIO...`: record golden case histories from real runs.

Replay tests are only as good as the histories they replay, so these come from the real thing: the scenario
cases are played through the real case workflow, worker and activities on the time-skipping server (the
machinery of `starter.py simulate`), and each *case* workflow's history is written as `temporal workflow show
--output json` writes it. The scenario driver's histories are simulation scaffolding and are not kept.

Payloads are encrypted with the configured keys; `scripts/record-histories` configures the public test-only
key of tests/histories/keys.py. A recorded set is evidence of what one version of the code did, so it is never
overwritten: a new version records a new set into a new folder.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from domain.policy import Policy, load_policy
from runtime.binaries import test_server_path
from runtime.keys import KeyConfigError, KeyRing, load_keys
from runtime.temporal import data_converter, ensure_search_attributes
from runtime.worker import make_worker
from simulation.driver import ScenarioDriverWorkflow
from simulation.runner import _case_activities, _start_all
from simulation.scenario import ScenarioError, load_scenarios

TASK_QUEUE = "record-histories"


@dataclass(frozen=True)
class Recorded:
    scenario: str
    workflow_id: str
    events: int
    path: Path


async def play(scenario_paths: Sequence[Path], keys: KeyRing, *,
               policy: Policy | None = None) -> list[tuple[str, WorkflowHistory]]:
    """Play every scenario case to its end; (scenario name, case workflow history) for each."""
    cases = [case for path in scenario_paths for case in load_scenarios(path)]
    meeting_ids = [start.meeting_id for _, start, _ in cases]
    if len(set(meeting_ids)) != len(meeting_ids):
        raise ScenarioError("two scenario cases share a meeting_id: each case needs its own workflow id")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()), data_converter=data_converter(keys),
    )
    histories: list[tuple[str, WorkflowHistory]] = []
    with tempfile.TemporaryDirectory() as outbox_dir:  # what the run "sent" is not part of the record
        async with env:
            await ensure_search_attributes(env.client)
            activities = _case_activities(env.client, Path(outbox_dir))
            async with make_worker(env.client, TASK_QUEUE, activities, workflows=[ScenarioDriverWorkflow]):
                played = await _start_all(env, TASK_QUEUE, cases, policy or load_policy())
                for p in played:  # one after another: gathering many results breaks time skipping
                    await p.driver.result()
                for p in played:
                    histories.append((p.scenario.name, await p.case.fetch_history()))
    return histories


def write(histories: Sequence[tuple[str, WorkflowHistory]], out_dir: Path) -> list[Recorded]:
    """`<workflow id>.json` for each history, in the shape `temporal workflow show --output json` writes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    recorded = []
    for name, history in histories:
        path = out_dir / f"{history.workflow_id}.json"
        path.write_text(history.to_json() + "\n", encoding="utf-8")
        recorded.append(Recorded(name, history.workflow_id, len(history.events), path))
    return recorded


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m replay.record", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="a new folder for this set of histories")
    parser.add_argument("scenarios", nargs="+", type=Path, help="scenario files (contract.md format)")
    args = parser.parse_args(argv)
    if args.out_dir.exists() and any(args.out_dir.iterdir()):
        print(f"record: {args.out_dir} already holds histories; a recorded set is never overwritten "
              "(record into a new folder, or delete this one on purpose)", file=sys.stderr)
        return 1
    try:
        recorded = write(asyncio.run(play(args.scenarios, load_keys())), args.out_dir)
    except (KeyConfigError, ScenarioError) as exc:
        print(f"record: {exc}", file=sys.stderr)
        return 1
    for r in recorded:
        print(f"{r.workflow_id}  {r.events} events  {r.scenario}  {r.path}")
    print(f"{len(recorded)} histories in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
