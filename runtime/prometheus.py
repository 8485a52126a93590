"""Counters in the Prometheus text format, for the processes that serve their own HTTP (intake, codec server).

The worker's metrics come from the Temporal SDK runtime (runtime/telemetry.py); the intake and the codec
server count a few things of their own and answer ``GET /metrics`` with this. A handful of counters needs
no client library: the text format is simple, and keeping it here keeps the dependencies few. Label values
must never hold personal data: callers pass outcomes, statuses and paths, never ids.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape(value: str) -> str:
    """A label value: backslash, newline and double quote escaped (HELP text escapes only the first two)."""
    return _escape_help(value).replace('"', '\\"')


class Counter:
    """A monotonically increasing count per label set; thread-safe (the codec server is threaded)."""

    def __init__(self, name: str, help_text: str, labels: tuple[str, ...] = ()) -> None:
        self.name = name
        self.help = help_text
        self.labels = labels
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def inc(self, amount: float = 1, **labels: str) -> None:
        if set(labels) != set(self.labels):
            raise ValueError(f"{self.name} takes labels {self.labels}, got {tuple(labels)}")
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = tuple(labels[name] for name in self.labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0) + amount

    def value(self, **labels: str) -> float:
        """The current count for one label set (0 if never counted): for tests and health answers."""
        with self._lock:
            return self._values.get(tuple(labels.get(name, "") for name in self.labels), 0)

    def lines(self) -> Iterator[str]:
        yield f"# HELP {self.name} {_escape_help(self.help)}"
        yield f"# TYPE {self.name} counter"
        with self._lock:
            items = sorted(self._values.items())
        for key, value in items:
            pairs = ",".join(f'{name}="{_escape(v)}"' for name, v in zip(self.labels, key, strict=True))
            yield f"{self.name}{{{pairs}}} {value:g}" if pairs else f"{self.name} {value:g}"


class Registry:
    """The counters of one process, rendered together for ``/metrics``."""

    def __init__(self) -> None:
        self._counters: dict[str, Counter] = {}

    def counter(self, name: str, help_text: str, labels: tuple[str, ...] = ()) -> Counter:
        if name in self._counters:
            raise ValueError(f"counter {name} is already registered")
        counter = self._counters[name] = Counter(name, help_text, labels)
        return counter

    def render(self) -> str:
        return "".join(f"{line}\n" for counter in self._counters.values() for line in counter.lines())
