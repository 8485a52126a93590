"""`python worker.py`: run the case worker against TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE until stopped.

Workers are stateless: run more of them (here, or as compose replicas) to scale out. SIGINT/SIGTERM drain
in-flight activities (for up to MISSED_MEETING_SHUTDOWN_GRACE_SECONDS) before the process exits. Prometheus
metrics, the SDK's and the business counters, are served on MISSED_MEETING_METRICS_ADDRESS.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from datetime import timedelta

import structlog
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import Worker

from runtime.settings import Settings, SettingsError


def sdk_runtime(settings: Settings) -> tuple[Runtime, str | None]:
    """The worker's one SDK runtime (core logs forwarded, metrics served) and where its metrics are, if anywhere.

    An address set in the environment must be served. The default one may be taken, by a second worker on a
    developer's machine say: then the worker runs without metrics and says so.
    """
    from runtime.telemetry import TelemetryError, make_runtime

    try:
        return make_runtime(settings.metrics_bind), settings.metrics_bind
    except TelemetryError as exc:
        if "metrics_address" in settings.model_fields_set:
            raise
        structlog.get_logger("worker").warning("worker serves no metrics", reason=str(exc),
                                               fix="set MISSED_MEETING_METRICS_ADDRESS")
        return make_runtime(None), None


def build_worker(client: Client, settings: Settings) -> Worker:
    """The case worker; on shutdown it waits up to the grace period for running activities to finish."""
    from activities.case_activities import CaseActivities
    from runtime.worker import make_worker

    activities = CaseActivities.from_settings()  # channels, letterhead and MeMo sender from the environment
    return make_worker(client, settings.task_queue, activities.all_activities(),
                       max_cached_workflows=settings.max_cached_workflows,
                       graceful_shutdown_timeout=timedelta(seconds=settings.shutdown_grace_seconds))


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Serve until ``stop`` is set (by default: until SIGINT or SIGTERM), then drain and return."""
    from runtime.temporal import connect, ensure_search_attributes

    log = structlog.get_logger("worker")
    runtime, metrics = sdk_runtime(settings)
    client = await connect(settings.temporal_address, settings.temporal_namespace, runtime=runtime)
    added = await ensure_search_attributes(client)
    if added:
        log.info("registered search attributes", names=added)
    worker = build_worker(client, settings)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    log.info("worker started", address=settings.temporal_address, namespace=settings.temporal_namespace,
             task_queue=settings.task_queue,
             metrics=f"http://{metrics}/metrics" if metrics else None)
    async with worker:
        await stop.wait()
        log.info("worker stopping: draining in-flight activities", grace_seconds=settings.shutdown_grace_seconds)
    log.info("worker stopped")


def main() -> int:
    from runtime.keys import KeyConfigError
    from runtime.logging import configure_logging
    from runtime.telemetry import TelemetryError

    configure_logging(core_logs=False)  # run() forwards the core's logs through the runtime it makes
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(Settings.from_env()))
    except (KeyConfigError, SettingsError, TelemetryError) as exc:
        print(f"worker.py: {exc}", file=sys.stderr)
        return 1
    return 0


def _exit(code: int) -> None:
    """Leave without interpreter teardown: the SDK's native threads can abort a normal exit (seen: code 134)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit(main())
