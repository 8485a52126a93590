"""Part 2, case cost: what a case costs the server through the hearing phase, per activity, beside the ceiling.

Cases are started on the benchmark worker (bench/perf_worker.py: the production worker plus the trivial
workflow) and followed until they wait on their answer deadline: hearing letters sent, deadline timer started,
nothing pending. On a real-time server that is where a case rests for 8 days. Each case lives on the case
clock of a Wednesday morning (the simulation's clock offset, as in the crash drill), so its letters are due at
once whatever time the benchmark runs. The ceiling is the trivial workflow with the same number of activities
as each case, then a timer of the same length: same shape, nothing else. Both are started 32 at a time and
run in alternating batches; server CPU, worker CPU and wall time are summed per kind, and every history is
read afterwards for its event count.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.drill_cases import ABSENCE, CaseClock
from bench.perf_data import MIX, meeting_missed
from bench.perf_env import (
    BENCH_QUEUE,
    Server,
    Stopwatch,
    Tally,
    bounded,
    dev_server,
    process_cpu,
    wait_settled,
    worker_process,
)
from bench.perf_report import AT_MOST_1_5, Row
from bench.perf_trivial import TRIVIAL_WORKFLOW, TrivialInput
from domain.events import MeetingMissed, parse_event
from domain.policy import load_policy
from intake.events import DEFAULT_CONCURRENCY
from intake.gateway import CaseGateway, start_attributes
from workflows.api import WORKFLOW_TYPE, CaseInput, workflow_id_for

DEADLINE_WAIT = timedelta(days=8).total_seconds()


@dataclass
class Kind:
    """Figures of one kind of workflow (the case, or its trivial twin) over all its batches."""

    tally: Tally
    worker_cpu: float = 0.0
    activities: int = 0
    events: int = 0


class CaseStarter:
    """Starts cases as the intake does (same input, same search attributes), on the Wednesday case clock."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.gateway = CaseGateway(client, load_policy(), task_queue=BENCH_QUEUE)
        self.clock = CaseClock.starting_now()

    def event(self, prefix: str, n: int) -> MeetingMissed:
        event = parse_event(json.dumps(meeting_missed(prefix, n, ABSENCE), ensure_ascii=False))
        assert isinstance(event, MeetingMissed)
        return event

    async def start(self, event: MeetingMissed) -> str:
        attributes = start_attributes(event)
        inp = CaseInput(case=event, policy=self.gateway.snapshot_for(event),
                        clock_offset_seconds=self.clock.offset_seconds)
        workflow_id = workflow_id_for(event.meeting_id)
        await self.client.start_workflow(WORKFLOW_TYPE, inp, id=workflow_id, task_queue=BENCH_QUEUE,
                                         search_attributes=attributes)
        return workflow_id


async def _history_counts(client: Client, workflow_id: str) -> tuple[int, int, int]:
    """Events, activities scheduled and timers started in a workflow's history."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    kinds = Counter(e.event_type for e in history.events)
    return (len(history.events), kinds[EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED],
            kinds[EventType.EVENT_TYPE_TIMER_STARTED])


async def _batch(server: Server, worker_pid: int, client: Client, starts: list[Any], kind: Kind) -> list[str]:
    """Start a batch 32 at a time, wait until all rest on their timer, add wall, server and worker CPU."""
    watch = Stopwatch(server)
    worker_before = process_cpu(worker_pid)
    watch.start()
    ids: list[str] = await bounded(starts, DEFAULT_CONCURRENCY)
    end = await wait_settled(client, ids)
    watch.stop(at=end)
    kind.worker_cpu += process_cpu(worker_pid) - worker_before
    kind.tally.add(len(ids), watch)
    return ids


async def run_case(size: int, keep: Path | None = None) -> list[Row]:
    """Case batches and trivial batches alternately, `size` of each in all, on one fresh server and worker."""
    async with dev_server(f"case-{size}", keep=keep) as server, worker_process(server) as worker:
        assert worker.proc is not None
        client = await server.client()
        starter = CaseStarter(client)

        # Warm-up, not measured: one case of each kind tells how many activities that kind has.
        warm = await bounded([partial(starter.start, starter.event("warm", n)) for n in range(len(MIX))], len(MIX))
        await wait_settled(client, warm)
        activities_of = [(await _history_counts(client, wid))[1] for wid in warm]

        def trivial_start(prefix: str, n: int) -> Any:
            async def start() -> str:
                workflow_id = f"{prefix}-{n:06d}"
                inp = TrivialInput(activities=activities_of[n % len(MIX)], timers=0, wait_seconds=DEADLINE_WAIT)
                await client.start_workflow(TRIVIAL_WORKFLOW, inp, id=workflow_id, task_queue=BENCH_QUEUE)
                return workflow_id
            return start

        def case_start(prefix: str, n: int) -> Any:
            return partial(starter.start, starter.event(prefix, n))

        await wait_settled(client, await bounded([trivial_start("warm-t", n) for n in range(len(MIX))], len(MIX)))
        await server.measure_idle()

        case, trivial = Kind(Tally()), Kind(Tally())
        half = max(len(MIX), size // 2)
        case_ids: list[str] = []
        trivial_ids: list[str] = []
        for batch, first in enumerate(("trivial", "case")):
            for what in (first, "case" if first == "trivial" else "trivial"):
                numbers = range(batch * half, (batch + 1) * half)
                if what == "case":
                    case_ids += await _batch(server, worker.proc.pid, client,
                                             [case_start("case", n) for n in numbers], case)
                else:
                    trivial_ids += await _batch(server, worker.proc.pid, client,
                                                [trivial_start("trivial", n) for n in numbers], trivial)

        for ids, kind in ((case_ids, case), (trivial_ids, trivial)):
            counts = await bounded([partial(_history_counts, client, w) for w in ids], 8)
            kind.events = sum(c[0] for c in counts)
            kind.activities = sum(c[1] for c in counts)
    return _rows(size, case, trivial)


def _rows(size: int, case: Kind, trivial: Kind) -> list[Row]:
    per_case_activities = case.activities / case.tally.items
    mix = f"{per_case_activities:.2f} activities a case"

    def per_activity(kind: Kind, value: float) -> float:
        return value / kind.activities if kind.activities else 0.0

    return [
        Row("case", "server CPU per activity", size, 1000 * per_activity(case, case.tally.cpu_seconds), "ms",
            1000 * per_activity(trivial, trivial.tally.cpu_seconds), AT_MOST_1_5,
            f"through the hearing phase (letters sent, deadline timer started), {mix}; ceiling: trivial workflow, "
            f"same activities and a timer; server CPU per case {1000 * case.tally.cpu_per_item:.1f} ms vs "
            f"{1000 * trivial.tally.cpu_per_item:.1f} ms"),
        Row("case", "history events per activity", size, per_activity(case, case.events), "ev",
            per_activity(trivial, trivial.events), AT_MOST_1_5,
            f"events per case {case.events / case.tally.items:.1f} vs {trivial.events / trivial.tally.items:.1f}"),
        Row("case", "worker CPU per activity", size, 1000 * per_activity(case, case.worker_cpu), "ms",
            1000 * per_activity(trivial, trivial.worker_cpu), None,
            "the worker process (sandbox, pydantic, encryption, outbox) per activity"),
        Row("case", "end-to-end cases/s", size, case.tally.rate, "/s", trivial.tally.rate, None,
            f"start to resting on the deadline timer, {DEFAULT_CONCURRENCY} starts in flight; ceiling: trivial "
            "workflows/s"),
    ]
