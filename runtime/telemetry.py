"""The worker's one Temporal SDK runtime: core logs forwarded into the JSON log, and Prometheus metrics.

The SDK allows one telemetry configuration per runtime, and a client keeps the runtime it was created
with; so logging and metrics are configured together here, and the worker connects with this runtime.
The metrics endpoint serves the SDK's own metrics (task latencies, slots, polls) and the business counters
the activities record through ``activity.metric_meter()`` (see ``activities/metrics.py``).
"""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from runtime.logging import core_logging_config


class TelemetryError(Exception):
    """The metrics endpoint cannot be served (address malformed or in use): stop at start, saying which."""


def make_runtime(metrics_address: str | None = None) -> Runtime:
    """A runtime forwarding core logs, and serving ``/metrics`` on ``metrics_address`` (an ``ip:port``) if set."""
    metrics = PrometheusConfig(bind_address=metrics_address) if metrics_address else None
    try:
        return Runtime(telemetry=TelemetryConfig(logging=core_logging_config(), metrics=metrics))
    except ValueError as exc:
        raise TelemetryError(f"cannot serve Prometheus metrics on {metrics_address}: {exc}") from None
