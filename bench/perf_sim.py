"""Part 3, simulation: cases per second for `simulate` of a mixed population, beside the ceiling.

The population (bench/perf_data.py) is half jobparat citizens who never answer (deadline, decision task,
sanction, letter, payments) and half aktivitetsparat citizens on the full contact ladder (inbound check,
three calls, NemSMS, e-mail, the mentor, a home visit, then the decision). The figure is the wall time of
`simulation.runner.simulate`, the function behind `starter.py simulate`, from its call to its return: its
own time-skipping server, worker, scenario drivers and the collection of every journal. The ceiling starts
its own time-skipping server too and plays, per case, the trivial workflow with the same number of timers and
activities as that case's workflow had (counted from a probe run of one case of each kind, untimed), all at
once, then waits for each result in turn as `simulate` does.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from bench.perf_data import write_scenarios
from bench.perf_report import Row
from bench.perf_trivial import TrivialInput, TrivialWorkflow, trivial_step
from runtime.binaries import test_server_path
from runtime.keys import KeyRing
from runtime.temporal import data_converter
from runtime.worker import make_worker

CEILING_QUEUE = "perf-sim-ceiling"
TIMER_SECONDS = 3600.0
"""Each ceiling timer's length; the time-skipping server jumps over it whatever it is."""


def shape_of(history: WorkflowHistory) -> TrivialInput:
    """The trivial workflow with as many activities and timers as this history."""
    kinds = Counter(e.event_type for e in history.events)
    return TrivialInput(activities=kinds[EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED],
                        timers=kinds[EventType.EVENT_TYPE_TIMER_STARTED], timer_seconds=TIMER_SECONDS)


async def probe_shapes(workdir: Path) -> list[TrivialInput]:
    """Play one case of each kind (untimed) with the machinery `replay.record` uses; their shapes in kind order."""
    from replay.record import play

    probe = write_scenarios(workdir / "probe.jsonl", "probe", 2)
    histories = await play([probe], KeyRing.generate())
    return [shape_of(history) for _, history in histories]


async def _ceiling(shapes: list[TrivialInput], count: int) -> float:
    """Seconds to play `count` trivial workflows (shapes cycled like the population's kinds) on a fresh
    time-skipping server: its start included, as `simulate` includes its own."""
    began = time.monotonic()
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()), data_converter=data_converter(KeyRing.generate()))
    async with env, make_worker(env.client, CEILING_QUEUE, [trivial_step], workflows=[TrivialWorkflow]):
        handles = [await env.client.start_workflow(TrivialWorkflow.run, shapes[n % len(shapes)],
                                                   id=f"perf-sim-ceiling-{n:05d}", task_queue=CEILING_QUEUE)
                   for n in range(count)]
        for handle in handles:
            await handle.result()
    return time.monotonic() - began


async def _simulate(workdir: Path, count: int) -> float:
    from simulation.runner import simulate

    scenario = write_scenarios(workdir / "population.jsonl", "sim", count)
    began = time.monotonic()
    code = await simulate(scenario, None, data_dir=workdir / "data", out=io.StringIO(), journals=False)
    seconds = time.monotonic() - began
    if code != 0:
        raise RuntimeError(f"simulate exited {code}")
    return seconds


async def run_simulation(size: int, workdir: Path) -> list[Row]:
    """Ceiling, simulate, ceiling again (the ceiling is the mean of its two runs); `workdir` must exist."""
    shapes = await probe_shapes(workdir)
    first = await _ceiling(shapes, size)
    figure = await _simulate(workdir, size)
    second = await _ceiling(shapes, size)
    ceiling_seconds = (first + second) / 2
    timers = sum(s.timers for s in shapes) / len(shapes)
    activities = sum(s.activities for s in shapes) / len(shapes)
    note = (f"`simulate` of {size} cases (half jobparat without answer, half aktivitetsparat through the full "
            f"ladder), its server start included ({figure:.1f} s); ceiling: trivial workflows with the same "
            f"{timers:.1f} timers and {activities:.1f} activities a case on the time-skipping server "
            f"({ceiling_seconds:.1f} s)")
    return [Row("simulation", "cases/s", size, size / figure, "/s", size / ceiling_seconds, None, note)]
