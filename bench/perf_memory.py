"""Part 5, memory: worker RSS per open case (sticky cache at its default and small), database size per case.

The worker is the production one, `python worker.py`, with `MISSED_MEETING_MAX_CACHED_WORKFLOWS` unset (its
default) or small. After a warm-up (imports, first sandboxes), N cases are opened on the Wednesday case clock
and followed until every one waits on its answer deadline; then the worker's resident memory is read. A
workflow in the sticky cache keeps its sandbox, its state and its journal in memory until its timer fires
(8 days later); an evicted one costs nothing until then, and a replay of its history when it wakes. Each cache
size runs on a fresh dev server; the database (SQLite file with its WAL and shared-memory files) is measured
after the warm-up and after the N cases.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bench.perf_case import CaseStarter
from bench.perf_env import bounded, dev_server, process_rss, wait_settled, worker_process
from bench.perf_report import Row
from intake.events import DEFAULT_CONCURRENCY
from runtime.settings import Settings

SMALL_CACHE = 100
WARMUP = 50
SETTLE_SECONDS = 1.0
"""Pause before reading RSS, so allocations of the last workflow tasks have landed."""


@dataclass(frozen=True)
class MemoryRun:
    """RSS and database size before and after `cases` more open cases, with `cache` as the sticky cache size."""

    cache: int
    cases: int
    rss_before: int
    rss_after: int
    db_before: int
    db_after: int

    @property
    def newly_cached(self) -> int:
        """How many of the new cases the sticky cache can hold, beyond the warm-up's."""
        return min(WARMUP + self.cases, self.cache) - min(WARMUP, self.cache)

    @property
    def rss_per_case(self) -> float:
        return (self.rss_after - self.rss_before) / self.cases

    @property
    def rss_per_cached_case(self) -> float | None:
        return (self.rss_after - self.rss_before) / self.newly_cached if self.newly_cached else None

    @property
    def db_per_case(self) -> float:
        return (self.db_after - self.db_before) / self.cases


async def _measure(size: int, cache: int | None, keep: Path | None) -> MemoryRun:
    env = {"MISSED_MEETING_MAX_CACHED_WORKFLOWS": str(cache)} if cache is not None else {}
    async with dev_server(f"memory-{size}-{cache or 'default'}", keep=keep) as server, \
            worker_process(server, module=None, **env) as worker:
        assert worker.proc is not None
        client = await server.client()
        starter = CaseStarter(client)
        warm = await bounded([partial(starter.start, starter.event("warm", n)) for n in range(WARMUP)],
                             DEFAULT_CONCURRENCY)
        await wait_settled(client, warm)
        await asyncio.sleep(SETTLE_SECONDS)
        rss_before, db_before = process_rss(worker.proc.pid), server.db_bytes()
        ids = await bounded([partial(starter.start, starter.event("open", n)) for n in range(size)],
                            DEFAULT_CONCURRENCY)
        await wait_settled(client, ids, patience=1800.0)
        await asyncio.sleep(SETTLE_SECONDS)
        rss_after, db_after = process_rss(worker.proc.pid), server.db_bytes()
    default_cache = Settings.model_fields["max_cached_workflows"].default
    return MemoryRun(cache if cache is not None else int(default_cache), size, rss_before, rss_after,
                     db_before, db_after)


async def run_memory(size: int, keep: Path | None = None) -> list[Row]:
    """The production worker with its default sticky cache, then with a small one."""
    default = await _measure(size, None, keep)
    small = await _measure(size, SMALL_CACHE, keep)
    mib = 1024 * 1024
    rows = []
    for run, label in ((default, "default"), (small, "small")):
        per_cached = run.rss_per_cached_case
        if run.cache >= size and per_cached is not None:
            held = f"all in the cache: {per_cached / 1024:.0f} KiB per cached case"
        elif per_cached is not None and run.cache >= size // 2:
            held = f"{run.newly_cached:,} of them in the cache, {per_cached / 1024:.0f} KiB per cached case at most"
        else:
            held = (f"the cache holds {run.cache}: the rest cost nothing until their timer fires, so RSS stays near "
                    "its high-water mark whatever N")
        note = (f"`python worker.py`, max_cached_workflows={run.cache} ({label}): "
                f"{run.rss_before / mib:.0f} → {run.rss_after / mib:.0f} MiB for {size:,} more open cases; {held}")
        rows.append(Row("memory", f"worker RSS per open case, cache {run.cache}", size, run.rss_per_case / 1024,
                        "KiB", None, None, note))
    rows.append(Row("memory", "server database per case", size, default.db_per_case / 1024, "KiB", None, None,
                    f"SQLite file + WAL + shm, WAL pragmas: {default.db_before / mib:.0f} → "
                    f"{default.db_after / mib:.0f} MiB; cases resting on their deadline timer, history and "
                    "visibility rows"))
    return rows
