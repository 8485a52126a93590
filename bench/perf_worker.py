"""`python -m bench.perf_worker`: the production worker plus the ceiling's trivial workflow, as one process.

Built exactly like `python worker.py` (settings from the environment, `runtime.worker.make_worker`, the real
activities on the outbox channel), with `bench.perf_trivial` registered beside the case workflow, so the case
and its ceiling run on one worker with one configuration, back to back on the same server. No metrics
endpoint: nothing else may take the machine's CPU during a measurement.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import timedelta
from typing import Any

import structlog

from bench.perf_trivial import TrivialWorkflow, trivial_step
from runtime.settings import Settings

OPTIONS_ENV = "PERF_WORKER_OPTIONS"
"""JSON object of extra `make_worker` keyword arguments, to compare worker settings (`--worker-options`)."""


def experiment_options() -> dict[str, Any]:
    """Worker options under test: plain JSON values, `*_seconds` keys become timedeltas, and
    `workflow_task_pollers` / `activity_task_pollers` become a simple-maximum poller behaviour."""
    from temporalio.worker import PollerBehaviorSimpleMaximum

    options: dict[str, Any] = json.loads(os.environ.get(OPTIONS_ENV) or "{}")
    for key in [k for k in options if k.endswith("_seconds")]:
        options[key.removesuffix("_seconds")] = timedelta(seconds=float(options.pop(key)))
    for kind in ("workflow_task", "activity_task"):
        if f"{kind}_pollers" in options:
            options[f"{kind}_poller_behavior"] = PollerBehaviorSimpleMaximum(int(options.pop(f"{kind}_pollers")))
    return options


async def run(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT."""
    from activities.case_activities import CaseActivities
    from runtime.temporal import connect
    from runtime.worker import make_worker

    client = await connect(settings.temporal_address, settings.temporal_namespace)
    activities = [*CaseActivities.from_settings().all_activities(), trivial_step]
    worker = make_worker(client, settings.task_queue, activities, workflows=[TrivialWorkflow],
                         max_cached_workflows=settings.max_cached_workflows, **experiment_options())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log = structlog.get_logger("perf_worker")
    async with worker:
        log.info("worker started", task_queue=settings.task_queue, max_cached=settings.max_cached_workflows)
        await stop.wait()


def main() -> int:
    from runtime.logging import configure_logging

    configure_logging()
    asyncio.run(run(Settings.from_env()))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the SDK's native threads can abort interpreter teardown
