"""The processes a drill starts and kills: a Temporal dev server on a SQLite file, and `python worker.py`.

Both run in their own session with output to a log file, so a `kill -9` hits exactly the process the drill
started (by pid) and nothing else. The server keeps its port and database file across restarts: a client and
a worker that survive the crash must find it again where it was.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from runtime.binaries import temporal_cli_path
from workflows import search_attributes as sa

ROOT = Path(__file__).resolve().parent.parent
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")
"""As `scripts/local-system` runs it (architecture.md: 2.3x the default throughput)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def search_attribute_args() -> list[str]:
    """`temporal server start-dev` flags registering the case workflow's search attributes with their types."""
    args: list[str] = []
    for key in sa.ALL:  # KEYWORD_LIST -> KeywordList, DATETIME -> Datetime, ...
        kind = key.indexed_value_type.name.title().replace("_", "")
        args += ["--search-attribute", f"{key.name}={kind}"]
    return args


class ManagedProcess:
    """One child process in its own session, logging to `log_path` (appended across restarts)."""

    def __init__(self, name: str, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    def _spawn(self, argv: list[str], env: Mapping[str, str] | None = None) -> None:
        self._log = self.log_path.open("ab")
        self._log.write(f"\n==== start {self.starts + 1}: {' '.join(argv[:3])} ...\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=dict(env) if env is not None else None, cwd=ROOT, start_new_session=True)
        self.starts += 1

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """`kill -9`: no draining, no goodbye; exactly what a crash looks like from outside."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._close_log()

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


class DevServer(ManagedProcess):
    """`temporal server start-dev` on a SQLite file, headless, on a free port of 127.0.0.1."""

    def __init__(self, workdir: Path, dynamic_config: Mapping[str, str] | None = None) -> None:
        super().__init__("server", workdir / "temporal.log")
        self.db_path = workdir / "temporal.sqlite"
        self.port = free_port()
        self.dynamic_config = dict(dynamic_config or {})

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        args = [str(temporal_cli_path()), "server", "start-dev", "--db-filename", str(self.db_path),
                "--ip", "127.0.0.1", "--port", str(self.port), "--headless", "--log-level", "warn"]
        for pragma in SQLITE_PRAGMAS:
            args += ["--sqlite-pragma", pragma]
        for key, value in self.dynamic_config.items():
            args += ["--dynamic-config-value", f"{key}={value}"]
        return args + search_attribute_args()

    async def start(self, patience: float = 90.0) -> float:
        """Start (or restart on the same file and port) and wait until it answers; returns seconds taken."""
        began = time.monotonic()
        self._spawn(self.argv())
        health = [str(temporal_cli_path()), "operator", "cluster", "health", "--address", self.address]
        while time.monotonic() - began < patience:
            if not self.alive:
                raise RuntimeError(f"the dev server exited during start-up; see {self.log_path}")
            done = await asyncio.to_thread(subprocess.run, health, capture_output=True, timeout=30)
            if done.returncode == 0 and b"SERVING" in done.stdout:
                return time.monotonic() - began
            await asyncio.sleep(0.3)
        raise RuntimeError(f"the dev server did not answer within {patience:.0f} s; see {self.log_path}")


class WorkerProcess(ManagedProcess):
    """`python worker.py` against the drill's server, data dir and payload keys."""

    READY = b'"worker started"'

    def __init__(self, workdir: Path, env: Mapping[str, str], argv: Sequence[str] | None = None,
                 name: str = "worker") -> None:
        super().__init__(name, workdir / f"{name}.log")
        self.env = env
        self.command = list(argv) if argv is not None else [sys.executable, str(ROOT / "worker.py")]
        """What to run: `python worker.py` unless a benchmark runs its own worker script (bench/perf_worker.py)."""

    async def start(self, patience: float = 90.0) -> float:
        """Start and wait for the worker's 'worker started' log line; returns seconds taken."""
        began = time.monotonic()
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._spawn(self.command, self.env)
        while time.monotonic() - began < patience:
            if not self.alive:
                raise RuntimeError(f"the worker exited during start-up; see {self.log_path}")
            with self.log_path.open("rb") as log:
                log.seek(offset)
                if self.READY in log.read():
                    return time.monotonic() - began
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the worker did not start within {patience:.0f} s; see {self.log_path}")
