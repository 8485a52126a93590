"""Playing many cases on the time-skipping server in batches, with bounded memory.

A batch of `window` cases is started while the server's clock is locked, so every case's clock offset holds
from its first moment. Then the server is told to sleep (skip time) to the batch's last horizon, in chunks so a
progress bar can move; it fires every timer in between in order, and the worker plays the cases and their
scenario drivers as it goes. With the clock locked again, a batch is collected without asking the worker for
anything: each driver's result (the tasks the case opened and what became of every delivered event), the case's
status (one RPC; a case still running, such as a sanction waiting for the citizen, is terminated so its timers
cannot fire into the next batch) and the batch's rows of the outbox (every letter, SMS and task, as sent). A
`timeline` query would do, but a closed case has left the worker's cache and answering it means replaying its
whole history: a fifth of the run's time, measured. Nothing of a batch is kept afterwards, and every
`server_cases` cases the embedded server itself is replaced, since it keeps every history in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities.outbox import Outbox, OutboxEnvelope
from domain.events import MeetingMissed
from domain.policy import Policy, PolicySnapshot, snapshot
from runtime.binaries import test_server_path
from runtime.keys import KeyRing
from runtime.logging import CORE_LOGGER
from runtime.temporal import data_converter, ensure_search_attributes
from simulation.activities import SimulationActivities
from simulation.driver import DriverInput, DriverResult, ScenarioDriverWorkflow, driver_id_for
from simulation.scenario import Prepared, ScenarioCase
from simulation.workers import simulation_worker
from workflows.api import CaseInput, clock_offset, workflow_id_for

MIN_HORIZON_DAYS = 45.0
"""How long after the absence a case is followed at least, when nothing later is scripted."""
TAIL_DAYS = 30.0
"""How long after its last scripted event a case is followed."""
TASK_QUEUE = "simulation"
CHUNK = timedelta(days=3)
"""Server time skipped per call while a batch runs: the progress bar moves between calls."""
STALL_SECONDS = 900.0
"""Wall-clock seconds one chunk may take before the run is declared stuck."""


class SimulationStalled(RuntimeError):
    """A batch stopped moving: something holds the server's clock (a task that keeps failing or never ends)."""


@dataclass(frozen=True)
class EngineOptions:
    window: int = 250
    """Cases open at once: a batch. The worker caches two workflows a case (the case and its driver)."""
    server_cases: int = 250
    """Replace the embedded server (and the worker) after this many cases. It keeps every history in memory
    and its CPU per case grows with them: 41 ms a case with a fresh server every 250 cases, 69 ms with one
    server for 1,000 (measured); a new one starts in 0.1 s."""
    sandbox: bool = True
    """Run workflows in the SDK's sandbox (production's and the tests' setting); see simulation/workers.py."""
    encrypt: bool = True
    """Encrypt payloads with a throwaway key as production does; needless for a synthetic population."""
    fast_outbox: bool = True
    """Outbox writes without fsync: a simulation's outbox is a by-product, rebuilt by running again."""
    quiet_activities: bool = True
    """Keep the activities' per-send info lines out of the log (warnings still go through)."""
    workflow_tasks: int = 100
    """Workflow activations at once (the SDK's threads; unused when activations run inline)."""
    inline: bool = True
    """Unsandboxed only: run each workflow activation on the event loop instead of handing it to a thread
    (the SDK's `debug_mode`; it also turns off deadlock detection). Saves the thread hand-off on every
    activation, about 5 % of the simulator's CPU, measured."""


@dataclass(frozen=True)
class Played:
    """One case, played: what was scripted and what happened (or why nothing could be read: `failure`)."""

    scenario: ScenarioCase
    start: MeetingMissed
    driver: DriverResult | None
    sent: list[OutboxEnvelope]
    closed: bool
    failure: str | None = None


class _TestServerNotice(logging.Filter):
    """Drops the SDK core's warning that the test server does not advertise a newer server's heartbeat
    capability: true of every embedded server the engine starts (one per batch), and irrelevant to a simulation,
    whose activities do not heartbeat."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "activity_failure_include_heartbeat" not in record.getMessage()


_NOTICE = _TestServerNotice()


class _QuietLog:
    """A logger for the activities that drops info lines: a year of cases would log a million of them."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def bind(self, **_: Any) -> _QuietLog:
        return self

    def info(self, *_: Any, **__: Any) -> None:
        return None

    def debug(self, *_: Any, **__: Any) -> None:
        return None

    def warning(self, event: str, **kw: Any) -> None:
        self.real.warning(event, **kw)

    def error(self, event: str, **kw: Any) -> None:
        self.real.error(event, **kw)


def case_activities(client: Client, outbox_path: Path, *, fast_outbox: bool = False,
                    quiet: bool = False) -> list[Callable[..., Any]]:
    """The real activities on the outbox at `outbox_path`, with `open_task` telling the scenario driver."""
    import structlog

    from activities.case_activities import CaseActivities
    from activities.channels import OutboxChannels

    outbox = Outbox(outbox_path, durable=not fast_outbox)
    log = _QuietLog(structlog.get_logger("missed_meeting.activities")) if quiet else None
    real = CaseActivities(OutboxChannels(outbox), logger=log)
    sim = SimulationActivities(client, real.open_task)
    return [a for a in real.all_activities() if getattr(a, "__name__", "") != "open_task"] + [
        sim.open_task,
        sim.deliver,
    ]


async def start_server(*, encrypt: bool = True) -> WorkflowEnvironment:
    """An embedded time-skipping server; payloads encrypted with a throwaway key (it dies with the run), or
    not encrypted at all for synthetic data."""
    logging.getLogger(CORE_LOGGER).addFilter(_NOTICE)  # once: a filter already there is not added again
    converter = data_converter(KeyRing.generate()) if encrypt else pydantic_data_converter
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()), data_converter=converter,
    )
    await ensure_search_attributes(env.client)
    return env


class Snapshots:
    """Policy snapshots by the absence's year: computing the closed days once per year, not once per case."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._by_year: dict[int, PolicySnapshot] = {}

    def for_year(self, year: int) -> PolicySnapshot:
        if year not in self._by_year:
            self._by_year[year] = snapshot(self.policy, first_year=year)
        return self._by_year[year]


def horizon(prepared: Prepared) -> datetime:
    """How long the scenario driver follows a case: the scripted events, then `TAIL_DAYS`, at least 45 days."""
    _, start, events = prepared
    last = max([(e.at - start.occurred_at).total_seconds() / 86400 for e in events], default=0.0)
    return start.occurred_at + timedelta(days=max(MIN_HORIZON_DAYS, last + TAIL_DAYS))


async def start_case(client: Client, task_queue: str, server_now: datetime, prepared: Prepared,
                     snaps: Snapshots) -> tuple[WorkflowHandle[Any, Any], WorkflowHandle[Any, Any]]:
    """Start a case's scenario driver, then the case, on the case's own clock offset: (case, driver)."""
    scenario, start, events = prepared
    offset = clock_offset(server_now, start.occurred_at)
    snap = snaps.for_year(start.occurred_at.year)
    wid = workflow_id_for(start.meeting_id)
    driver = await client.start_workflow(
        ScenarioDriverWorkflow.run,
        DriverInput(name=scenario.name, case_workflow_id=wid, meeting_id=start.meeting_id,
                    clock_offset_seconds=offset, policy=snap, events=events, caseworker=scenario.caseworker,
                    horizon=horizon(prepared)),
        id=driver_id_for(wid), task_queue=task_queue,
    )
    case = await client.start_workflow(
        "MissedMeetingWorkflow", CaseInput(case=start, policy=snap, clock_offset_seconds=offset),
        id=wid, task_queue=task_queue,
    )
    return case, driver


def batches(cases: Iterable[Prepared], size: int) -> Iterator[list[Prepared]]:
    batch: list[Prepared] = []
    for case in cases:
        batch.append(case)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


Progress = Callable[[float], None]
"""Told how many more cases' worth of work is done (fractions while a batch runs)."""


async def play(cases: Iterable[Prepared], policy: Policy, outbox_path: Path, *,
               options: EngineOptions = EngineOptions(), progress: Progress | None = None) -> AsyncIterator[Played]:
    """Play `cases` batch by batch; yields each case of a batch once the whole batch has reached its horizon."""
    snaps = Snapshots(policy)
    sent_log = Outbox(outbox_path, durable=not options.fast_outbox)  # read back after each batch
    served = 0
    env: WorkflowEnvironment | None = None
    worker: Any = None
    last_row = 0
    try:
        for batch in batches(cases, options.window):
            if env is None or served >= options.server_cases:
                if worker is not None:
                    await worker.__aexit__(None, None, None)
                if env is not None:
                    await env.shutdown()
                env = await start_server(encrypt=options.encrypt)
                worker = simulation_worker(
                    env.client, TASK_QUEUE,
                    case_activities(env.client, outbox_path, fast_outbox=options.fast_outbox,
                                    quiet=options.quiet_activities),
                    workflows=[ScenarioDriverWorkflow], sandbox=options.sandbox,
                    max_cached_workflows=2 * options.window + 100,
                    max_concurrent_workflow_tasks=options.workflow_tasks,
                    debug_mode=options.inline and not options.sandbox,
                    # a bug in a workflow fails that case (reported as such) instead of retrying its task
                    # forever, which would hold the server's clock for the whole batch
                    workflow_failure_exception_types=[Exception],
                )
                await worker.__aenter__()
                served = 0
            async for played in _play_batch(env, batch, snaps, sent_log, last_row, progress):
                last_row = max([last_row, *(r.id for r in played.sent)])
                yield played
            served += len(batch)
    finally:
        if worker is not None:
            await worker.__aexit__(None, None, None)
        if env is not None:
            await env.shutdown()


async def _play_batch(env: WorkflowEnvironment, batch: list[Prepared], snaps: Snapshots, sent_log: Outbox,
                      last_row: int, progress: Progress | None) -> AsyncIterator[Played]:
    client = env.client
    server_now = await env.get_current_time()  # the clock is locked: it stays here until we let it move
    started = await gather_limited([start_case(client, TASK_QUEUE, server_now, p, snaps) for p in batch])
    span = max(horizon(p) - p[1].occurred_at for p in batch) + timedelta(minutes=1)
    chunks = max(1, math.ceil(span / CHUNK))
    for _ in range(chunks):
        await _skip(client, span / chunks)
        if progress is not None:
            progress(len(batch) / chunks)
    with env.auto_time_skipping_disabled():  # results are waited for with the clock locked
        outcomes = await gather_limited([_collect(case, driver) for case, driver in started])
    sent: dict[str, list[OutboxEnvelope]] = {}
    for row in sent_log.envelopes(after_id=last_row):
        sent.setdefault(row.meeting_id, []).append(row)
    for (scenario, start, _events), (driver, closed, failure) in zip(batch, outcomes, strict=True):
        yield Played(scenario=scenario, start=start, driver=driver, sent=sent.get(start.meeting_id, []),
                     closed=closed, failure=failure)


async def _skip(client: Client, duration: timedelta) -> None:
    """Let the server's clock run `duration` further, firing every timer on the way, then lock it again."""
    request = SleepRequest()
    request.duration.FromTimedelta(duration)
    try:
        await client.test_service.unlock_time_skipping_with_sleep(request, timeout=timedelta(seconds=STALL_SECONDS))
    except RPCError as exc:
        if exc.status != RPCStatusCode.DEADLINE_EXCEEDED and "Timeout" not in exc.message:
            raise
        raise SimulationStalled(f"the server's clock did not get {duration} further in {STALL_SECONDS:.0f} s: "
                                "a case is stuck (see the worker's log above)") from None


async def gather_limited(jobs: list[Awaitable[Any]], limit: int = 64) -> list[Any]:
    """Run RPC-bound jobs concurrently, at most `limit` at a time, results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Awaitable[Any]) -> Any:
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(j) for j in jobs)))


async def _collect(case: WorkflowHandle[Any, Any], driver: WorkflowHandle[Any, Any]
                   ) -> tuple[DriverResult | None, bool, str | None]:
    """The driver's result, whether the case closed, and why it failed if it did; a running case is ended."""
    result: DriverResult | None = None
    failure = None
    try:
        result = await driver.result(rpc_timeout=timedelta(seconds=30))
    except (WorkflowFailureError, RPCError) as exc:
        failure = f"scenario driver: {_message(exc)}"
    status = (await case.describe()).status
    if status == WorkflowExecutionStatus.RUNNING:
        with contextlib.suppress(RPCError):  # it ended meanwhile
            await case.terminate(reason="simulation horizon reached")
        return result, False, failure
    if status == WorkflowExecutionStatus.FAILED:
        try:
            await case.result()
        except WorkflowFailureError as exc:
            return result, False, f"case workflow failed: {_message(exc)}"
    return result, status == WorkflowExecutionStatus.COMPLETED, failure


def _message(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None) or exc
    return f"{type(cause).__name__}: {getattr(cause, 'message', cause)}"
