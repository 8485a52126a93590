"""Crash drill: nothing lost, nothing sent twice, when the worker or the server is killed mid-run.

    python -m bench.crash_drill --cases 50 --crashes 5 --server-crashes 2 --seed 7

starts a Temporal dev server (SQLite file with WAL in a temporary directory, headless, a free port) and the
real worker (`python worker.py`) as processes, plays the cases first without faults (the control run), then
again while `kill -9` hits the worker `--crashes` times and the server `--server-crashes` times at random
points (the server restarts on the same database file). Then it checks every case (bench/drill_verify.py):
completed, the same journal steps as its control twin, its history replaying with the current code, the
outbox holding exactly the sends its journal names; and no CPR number in the server's database or either log.
It prints the figures (bench/drill_report.py) and exits 1 if anything was lost, sent twice or journaled
differently.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Coroutine, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

from activities.outbox import Outbox
from bench.drill_cases import CaseClock, DrillCase, make_cases
from bench.drill_check import files_holding
from bench.drill_driver import CaseRun, Driver
from bench.drill_report import DrillConfig, DrillReport
from bench.drill_verify import verify
from bench.processes import DevServer, WorkerProcess
from domain.policy import load_policy
from intake.gateway import CaseGateway
from runtime.keys import KeyRing, ensure_key_file
from runtime.temporal import data_converter
from workflows.api import TASK_QUEUE

CONCURRENCY = 16
"""Cases in play at once: enough to keep crashes landing mid-step, few enough for 2 cores."""


class Chaos:
    """Kills the worker and the server at random points of the drill's progress, and brings them back."""

    def __init__(self, config: DrillConfig, server: DevServer, worker: WorkerProcess, report: DrillReport,
                 total_steps: int) -> None:
        rng = random.Random(config.seed * 7919 + 1)
        self.rng = rng
        kinds = ["worker"] * config.crashes + ["server"] * config.server_crashes
        self.plan = sorted((rng.uniform(0.05, 0.9) * total_steps, kind) for kind in kinds)
        self.server, self.worker, self.report = server, worker, report
        self.reached = asyncio.Event()
        self.progress = 0

    def step(self) -> None:
        self.progress += 1
        self.reached.set()

    async def run(self) -> None:
        for at, kind in self.plan:
            while self.progress < at:
                self.reached.clear()
                await self.reached.wait()
            await asyncio.sleep(self.rng.uniform(0.0, 0.25))  # land anywhere in the step that follows
            if kind == "worker":
                await self._crash_worker()
            else:
                await self._crash_server()

    async def _crash_worker(self) -> None:
        self.worker.kill()
        self.report.worker_crashes += 1
        await asyncio.sleep(self.rng.uniform(0.2, 1.5))
        self.report.restart_seconds.append(await self.worker.start())

    async def _crash_server(self) -> None:
        self.server.kill()
        self.report.server_crashes += 1
        await asyncio.sleep(self.rng.uniform(0.5, 2.0))
        self.report.restart_seconds.append(await self.server.start())
        await asyncio.sleep(1.0)
        if not self.worker.alive:
            self.report.worker_died_with_server += 1
            self.report.restart_seconds.append(await self.worker.start())


def _quiet_runtime() -> Runtime:
    """The drill's own client expects the server to vanish: the SDK core's retry warnings are noise here."""
    quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet)))


async def _play(driver: Driver, cases: Sequence[DrillCase]) -> list[CaseRun]:
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(case: DrillCase) -> CaseRun:
        async with slots:
            return await driver.play(case)

    return list(await asyncio.gather(*(one(c) for c in cases)))


async def _with_chaos(play: Coroutine[Any, Any, list[CaseRun]], chaos: Chaos) -> list[CaseRun]:
    """Play while chaos strikes; if chaos itself fails (a process that will not come back), stop at once."""
    playing, striking = asyncio.create_task(play), asyncio.create_task(chaos.run())
    try:
        await asyncio.wait({playing, striking}, return_when=asyncio.FIRST_EXCEPTION)
        if striking.done() and striking.exception() is not None:
            raise RuntimeError(f"the drill could not go on: {striking.exception()}")
        return await playing
    finally:
        for task in (playing, striking):
            task.cancel()
        await asyncio.gather(playing, striking, return_exceptions=True)


async def run_drill(config: DrillConfig) -> DrillReport:
    """Run the whole drill in `config.keep` or a temporary directory; the processes are stopped at the end."""
    with tempfile.TemporaryDirectory(prefix="crash-drill-") as scratch:
        workdir = config.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        return await _run(config, workdir)


async def _run(config: DrillConfig, workdir: Path) -> DrillReport:
    report = DrillReport(config)
    keys = KeyRing.generate()
    if config.keep is not None:  # a key file beside the kept histories, to read them later (replay, codec)
        ensure_key_file(workdir / "payload-keys")
        keys = KeyRing.from_file(workdir / "payload-keys")
    server = DevServer(workdir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MISSED_MEETING_", "TEMPORAL_"))}
    env.update(TEMPORAL_ADDRESS=server.address, TEMPORAL_NAMESPACE="default", MISSED_MEETING_TASK_QUEUE=TASK_QUEUE,
               MISSED_MEETING_CHANNEL="outbox", MISSED_MEETING_DATA_DIR=str(workdir / "data"),
               MISSED_MEETING_PAYLOAD_KEYS=keys.to_spec(), MISSED_MEETING_METRICS_ADDRESS="off",
               PYTHONUNBUFFERED="1")
    if config.worker_cache is not None:
        env["MISSED_MEETING_MAX_CACHED_WORKFLOWS"] = str(config.worker_cache)
    worker = WorkerProcess(workdir, env)
    try:
        await server.start()
        await worker.start()
        client = await Client.connect(server.address, namespace="default", data_converter=data_converter(keys),
                                      runtime=_quiet_runtime())
        gateway = CaseGateway(client, load_policy(), task_queue=TASK_QUEUE, update_timeout=timedelta(seconds=30))
        driver = Driver(client, gateway, CaseClock.starting_now(), TASK_QUEUE, patience=config.patience)

        began = time.monotonic()
        control = await _play(driver, make_cases(config.cases, "ctl", config.seed))
        report.control_seconds = time.monotonic() - began
        if not all(r.completed for r in control):
            report.problems += [f"control {r.case.meeting_id}: {'; '.join(r.errors)}" for r in control
                                if not r.completed]
            return report

        cases = make_cases(config.cases, "drill", config.seed)
        chaos = Chaos(config, server, worker, report, sum(c.steps for c in cases))
        driver.on_step = chaos.step
        began = time.monotonic()
        drill = await _with_chaos(_play(driver, cases), chaos)
        report.drill_seconds = time.monotonic() - began
        if not worker.alive:
            await worker.start()

        verdict = await verify(driver, Outbox(workdir / "data" / "outbox.sqlite"), control, drill)
        report.take(verdict, drill)
        cprs = {c.cpr for c in cases} | {f"{c.cpr[:6]}-{c.cpr[6:]}" for c in cases}
        report.cpr_leaks = files_holding([server.db_path, Path(f"{server.db_path}-wal"), server.log_path,
                                          worker.log_path], cprs)
        return report
    finally:
        worker.stop()
        server.stop()


async def _until_signalled(config: DrillConfig) -> DrillReport:
    """Run the drill; SIGTERM or SIGINT cancels it, and cancelling stops the server and worker it started."""
    drill = asyncio.ensure_future(run_drill(config))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, drill.cancel)
    return await drill


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crash_drill", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=50, help="cases to play (default 50)")
    parser.add_argument("--crashes", type=int, default=5, help="kill -9 of the worker (default 5)")
    parser.add_argument("--server-crashes", type=int, default=0, help="kill -9 of the dev server (default 0)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for crash points and citizens")
    parser.add_argument("--patience", type=float, default=600.0, help="seconds before a case counts as lost")
    parser.add_argument("--worker-cache", type=int, help="the worker's sticky cache size (default: its own)")
    parser.add_argument("--keep", type=Path, help="keep the database, logs and outbox in this directory")
    args = parser.parse_args(argv)
    config = DrillConfig(cases=args.cases, crashes=args.crashes, server_crashes=args.server_crashes,
                         seed=args.seed, patience=args.patience, worker_cache=args.worker_cache,
                         keep=args.keep)
    try:
        report = asyncio.run(_until_signalled(config))
    except asyncio.CancelledError:
        print("crash drill: interrupted; the server and the worker it started are stopped", file=sys.stderr)
        return 130
    print(report.render())
    return 0 if report.ok else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # not sys.exit: the SDK's native threads can hang or abort interpreter teardown
