"""Running the real entry points (`python worker.py`, `python starter.py serve`) as child processes in tests.

Waiting is by condition with a generous bound (a log line appears, an endpoint answers), never by a fixed
sleep: the machine is shared and slow at times, so only the bound is about time, and it is far away.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
PATIENCE = 90.0
"""Seconds to wait for a process to come up or go down before the test fails (a bound, not a measurement)."""


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it; a tiny race with other processes is accepted)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_env(**overrides: str) -> dict[str, str]:
    """This process's environment without the project's settings, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MISSED_MEETING_", "TEMPORAL_"))}
    env.update(overrides)
    return env


class Child:
    """A child process whose stderr is collected line by line while it runs."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, *args: str, env: Mapping[str, str]) -> Child:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=ROOT, env=dict(env),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append(raw.decode("utf-8", errors="replace"))
            self._changed.set()
        self._changed.set()

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def wait_for_line(self, text: str) -> None:
        """Until a stderr line contains ``text``; fails if the process exits first or PATIENCE runs out."""
        async with asyncio.timeout(PATIENCE):
            while not any(text in line for line in self.lines):
                if self._reader.done():
                    raise AssertionError(f"process exited ({self.process.returncode}) before {text!r}:\n{self.log}")
                self._changed.clear()
                await self._changed.wait()

    async def wait_for_http(self, url: str) -> None:
        """Until ``url`` answers at all (any status); fails if the process exits first."""
        async with asyncio.timeout(PATIENCE), aiohttp.ClientSession() as session:
            while True:
                if self.process.returncode is not None:
                    raise AssertionError(f"process exited ({self.process.returncode}):\n{self.log}")
                try:
                    async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)):
                        return
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)  # polling interval, not a timing assumption

    async def terminate(self) -> int:
        """SIGTERM, then the exit code (what an orchestrator's stop does)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self.wait()

    async def wait(self) -> int:
        """The exit code of a process that ends by itself."""
        async with asyncio.timeout(PATIENCE):
            code = await self.process.wait()
            await self._reader
        return code

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        await self._reader
