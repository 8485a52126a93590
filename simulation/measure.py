"""Peak memory of the simulator and of the embedded test servers it starts (Linux /proc; else unknown)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import sys
from pathlib import Path


def own_peak_rss_mb() -> float:
    """This process's peak resident memory (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _children_peaks() -> dict[int, float]:
    """Peak resident memory (VmHWM) of this process's children, by pid, in MB."""
    peaks: dict[int, float] = {}
    me = str(os.getpid())
    proc = Path("/proc")
    if not proc.exists():
        return peaks
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            status = (entry / "status").read_text()
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if fields.get("PPid", "").strip() == me and "VmHWM" in fields:
                peaks[int(entry.name)] = int(fields["VmHWM"].split()[0]) / 1024
    return peaks


class ServerMemory:
    """Samples the test servers' peak memory every few seconds while a run lasts (they come and go)."""

    def __init__(self, every: float = 2.0) -> None:
        self.every = every
        self.peak_mb = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            self.peak_mb = max([self.peak_mb, *_children_peaks().values()])
            await asyncio.sleep(self.every)

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample())

    async def stop(self) -> float | None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return self.peak_mb or None
