"""What every benchmark part needs: a fresh dev server it can measure, a worker, and ways to wait and start.

Each part gets its own `temporal server start-dev` on a SQLite file with the local system's pragmas, in a
temporary directory, on a free port (bench/processes.py, shared with the crash drill), so one part's database
and caches never slow the next. The server's CPU time is read from the operating system (psutil): on this
machine the server is the limit, and a figure and its ceiling are compared by what they cost it.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import psutil
from temporalio.client import Client
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

from bench.processes import DevServer, WorkerProcess
from runtime.keys import KeyRing
from runtime.temporal import data_converter

T = TypeVar("T")

BENCH_QUEUE = "perf"
"""The task queue of the benchmark's worker (case workflows and the trivial workflow alike)."""
SETTLE_POLL = 0.1
"""Seconds between looks at a workflow that is not yet where the benchmark waits for it."""
IDLE_SECONDS = 2.0
"""How long the server's idle CPU is measured, after a part's warm-up."""


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its children so far (0 if it is gone)."""
    try:
        proc = psutil.Process(pid)
        total = sum(proc.cpu_times()[:2])
        for child in proc.children(recursive=True):
            total += sum(child.cpu_times()[:2])
        return float(total)
    except psutil.NoSuchProcess:
        return 0.0


def process_rss(pid: int) -> int:
    """Resident memory of a process in bytes."""
    return int(psutil.Process(pid).memory_info().rss)


def files_size(paths: Iterable[Path]) -> int:
    """Bytes on disk of those files that exist (a SQLite database with its -wal and -shm)."""
    return sum(p.stat().st_size for p in paths if p.exists())


@dataclass
class Server:
    """A running dev server of one benchmark part: its address, database files and CPU clock."""

    dev: DevServer
    workdir: Path
    keys: KeyRing
    idle_rate: float = 0.0
    """CPU seconds per second the server spends on its own housekeeping (`measure_idle`), left out of figures."""

    @property
    def address(self) -> str:
        return self.dev.address

    @property
    def pid(self) -> int:
        assert self.dev.proc is not None
        return self.dev.proc.pid

    def cpu(self) -> float:
        return process_cpu(self.pid)

    def db_files(self) -> list[Path]:
        db = self.dev.db_path
        return [db, Path(f"{db}-wal"), Path(f"{db}-shm")]

    def db_bytes(self) -> int:
        return files_size(self.db_files())

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a project process (worker, starter) that talks to this server."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MISSED_MEETING_", "TEMPORAL_"))}
        env.update(TEMPORAL_ADDRESS=self.address, TEMPORAL_NAMESPACE="default", MISSED_MEETING_TASK_QUEUE=BENCH_QUEUE,
                   MISSED_MEETING_CHANNEL="outbox", MISSED_MEETING_DATA_DIR=str(self.workdir / "data"),
                   MISSED_MEETING_PAYLOAD_KEYS=self.keys.to_spec(), MISSED_MEETING_METRICS_ADDRESS="off",
                   PYTHONUNBUFFERED="1")
        env.update(extra)
        return env

    async def client(self) -> Client:
        """A client with the project's data converter (payloads encrypted, as in production)."""
        return await Client.connect(self.address, namespace="default", data_converter=data_converter(self.keys),
                                    runtime=quiet_runtime())

    async def measure_idle(self, seconds: float = IDLE_SECONDS) -> float:
        """Measure (and keep) the CPU the server burns with nothing to do: timers, queue scanners, its own
        metrics. A slower run would otherwise be charged more of it than a faster one."""
        before, began = self.cpu(), time.monotonic()
        await asyncio.sleep(seconds)
        self.idle_rate = max(0.0, (self.cpu() - before) / (time.monotonic() - began))
        return self.idle_rate


_RUNTIME: Runtime | None = None


def quiet_runtime() -> Runtime:
    """One SDK runtime for the benchmark's clients, with the core's retry chatter held back."""
    global _RUNTIME
    if _RUNTIME is None:
        quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
        _RUNTIME = Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet)))
    return _RUNTIME


@asynccontextmanager
async def dev_server(prefix: str, dynamic_config: Mapping[str, str] | None = None,
                     keep: Path | None = None) -> AsyncIterator[Server]:
    """A fresh dev server in a temporary directory (or `keep`), stopped and deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"perf-{prefix}-") as scratch:
        workdir = keep / prefix if keep is not None else Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        server = Server(DevServer(workdir, dynamic_config), workdir, KeyRing.generate())
        await server.dev.start()
        try:
            yield server
        finally:
            server.dev.stop()


@asynccontextmanager
async def worker_process(server: Server, *, name: str = "worker", module: str | None = "bench.perf_worker",
                         **env: str) -> AsyncIterator[WorkerProcess]:
    """The benchmark worker (`python -m bench.perf_worker`), or `python worker.py` with `module=None`."""
    argv = [sys.executable, "-m", module] if module is not None else None
    worker = WorkerProcess(server.workdir, server.env(**env), argv, name=name)
    await worker.start()
    try:
        yield worker
    finally:
        worker.stop()


async def bounded(calls: Sequence[Callable[[], Awaitable[T]]], concurrency: int) -> list[T]:
    """Run the calls with at most `concurrency` in flight (what the intake's slots do); results in order."""
    slots = asyncio.Semaphore(concurrency)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with slots:
            return await call()

    return list(await asyncio.gather(*(one(c) for c in calls)))


async def is_settled(client: Client, workflow_id: str) -> bool:
    """The workflow has run its first task and waits on nothing but a timer (or has ended): no workflow task
    and no activity pending. For a case on a real-time server that is the answer deadline's timer."""
    description = await client.get_workflow_handle(workflow_id).describe()
    raw = description.raw_description
    return (description.history_length > 3 and not raw.HasField("pending_workflow_task")
            and not raw.pending_activities)


async def wait_settled(client: Client, workflow_ids: Sequence[str], patience: float = 600.0) -> float:
    """Wait until every workflow is settled; returns the monotonic time the last one was seen settled.

    The last started is watched first (it is usually the last to get there), so the end time is not pushed
    out by sweeping the others; one describe per workflow after that, the least load a check can put on the
    server whose CPU is being measured.
    """
    deadline = time.monotonic() + patience
    end = 0.0
    for workflow_id in [*workflow_ids[-1:], *workflow_ids[:-1]]:
        waited = False
        while not await is_settled(client, workflow_id):
            waited = True
            if time.monotonic() > deadline:
                raise TimeoutError(f"{workflow_id} did not settle within {patience:.0f} s")
            await asyncio.sleep(SETTLE_POLL)
        if waited or not end:
            end = time.monotonic()
    return end


@dataclass
class Stopwatch:
    """Wall time and server CPU of one measured stretch."""

    server: Server
    began: float = 0.0
    cpu_began: float = 0.0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def start(self) -> None:
        self.began, self.cpu_began = time.monotonic(), self.server.cpu()

    def stop(self, at: float | None = None) -> None:
        """Stop now; `at` (monotonic) if the end was seen earlier than now (the CPU is read now regardless).
        The server's idle CPU over the stretch is left out: what remains is what the work cost it."""
        now = time.monotonic()
        used = self.server.cpu() - self.cpu_began
        self.cpu_seconds = max(0.0, used - self.server.idle_rate * (now - self.began))
        self.seconds = (at if at is not None else now) - self.began


@dataclass
class Tally:
    """Runs of one measure (a figure or its ceiling): summed over rounds, and kept per round for medians."""

    items: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    rates: list[float] = field(default_factory=list)
    cpu_per_items: list[float] = field(default_factory=list)

    def add(self, items: int, watch: Stopwatch) -> None:
        self.items += items
        self.seconds += watch.seconds
        self.cpu_seconds += watch.cpu_seconds
        self.rates.append(items / watch.seconds if watch.seconds > 0 else 0.0)
        self.cpu_per_items.append(watch.cpu_seconds / items if items else 0.0)

    @property
    def rate(self) -> float:
        """Items per second over all rounds."""
        return self.items / self.seconds if self.seconds > 0 else 0.0

    @property
    def median_rate(self) -> float:
        """Items per second of the median round: one round that another process disturbed does not count."""
        return statistics.median(self.rates) if self.rates else 0.0

    @property
    def cpu_per_item(self) -> float:
        return self.cpu_seconds / self.items if self.items else 0.0

    @property
    def median_cpu_per_item(self) -> float:
        return statistics.median(self.cpu_per_items) if self.cpu_per_items else 0.0
