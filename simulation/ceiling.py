"""The throughput ceiling: a trivial workflow with four 1-day timers, run exactly the way `simulate` runs cases.

Same embedded time-skipping server, same data converter (encrypted payloads), same worker construction and
the same start / wait pattern as the simulator, so `cases per second` of a real simulation can be read as a
fraction of what this machine can do at all with Temporal's Python SDK:

    .venv/bin/python -m simulation.ceiling --cases 2000            # sandboxed, as the simulator runs
    .venv/bin/python -m simulation.ceiling --cases 2000 --no-sandbox
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from dataclasses import dataclass

from temporalio.testing import WorkflowEnvironment

from simulation.ceiling_workflow import TIMERS, CeilingWorkflow
from simulation.engine import start_server
from simulation.workers import simulation_worker


@dataclass(frozen=True)
class CeilingResult:
    cases: int
    seconds: float
    sandbox: bool

    @property
    def per_second(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


async def measure(cases: int, *, sandbox: bool = True, window: int = 1000,
                  env: WorkflowEnvironment | None = None) -> CeilingResult:
    """Start `cases` trivial workflows (at most `window` open at once) and wait for all; wall-clock seconds."""
    own = env is None
    if env is None:
        env = await start_server()
    task_queue = f"ceiling-{uuid.uuid4()}"
    try:
        async with simulation_worker(env.client, task_queue, [], workflows=[CeilingWorkflow], sandbox=sandbox):
            began = time.perf_counter()
            done = 0
            while done < cases:
                size = min(window, cases - done)
                handles = [
                    await env.client.start_workflow(CeilingWorkflow.run, done + i, task_queue=task_queue,
                                                    id=f"ceiling-{task_queue}-{done + i}")
                    for i in range(size)
                ]
                for handle in handles:
                    await handle.result()
                done += size
            seconds = time.perf_counter() - began
    finally:
        if own:
            await env.shutdown()
    return CeilingResult(cases=cases, seconds=seconds, sandbox=sandbox)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulation.ceiling", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--window", type=int, default=1000, help="workflows open at once")
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args(argv)
    result = asyncio.run(measure(args.cases, sandbox=not args.no_sandbox, window=args.window))
    label = "sandboxed" if result.sandbox else "unsandboxed"
    print(f"ceiling ({label}, {TIMERS} one-day timers): {result.cases} workflows in {result.seconds:.1f} s = "
          f"{result.per_second:.1f} per second", file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
