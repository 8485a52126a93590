"""`python worker.py`: run the case worker against TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE until stopped.

Workers are stateless: run more of them (here, or as compose replicas) to scale out. SIGINT/SIGTERM drain
in-flight activities before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

import structlog

from runtime.settings import Settings


async def run(settings: Settings) -> None:
    from activities.case_activities import CaseActivities
    from runtime.temporal import connect, ensure_search_attributes
    from runtime.worker import make_worker

    log = structlog.get_logger("worker")
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    added = await ensure_search_attributes(client)
    if added:
        log.info("registered search attributes", names=added)
    activities = CaseActivities.from_settings()  # channels, letterhead and MeMo sender from the environment
    worker = make_worker(client, settings.task_queue, activities.all_activities(),
                         max_cached_workflows=settings.max_cached_workflows)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", address=settings.temporal_address, namespace=settings.temporal_namespace,
             task_queue=settings.task_queue)
    async with worker:
        await stop.wait()
        log.info("worker stopping: draining in-flight activities")
    log.info("worker stopped")


def main() -> int:
    from runtime.logging import configure_logging

    configure_logging()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(Settings.from_env()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
