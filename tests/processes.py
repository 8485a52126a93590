"""Running the real entry points (`python worker.py`, `python starter.py serve`, the Temporal dev server, the
codec server) as child processes in tests.

Waiting is by condition with a generous bound (a log line appears, an endpoint answers), never by a fixed
sleep: the machine is shared and slow at times, so only the bound is about time, and it is far away.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from temporalio.client import Interceptor, OutboundInterceptor, StartWorkflowInput, WorkflowHandle

from bench.processes import search_attribute_args

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


# -- the local system's long-running parts, each in a process group of its own -----------------------------------

SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")
"""As `scripts/local-system` runs the dev server."""
LOCALHOST = "127.0.0.1"


class Service:
    """A long-running child (dev server, worker, codec server) in a session of its own, output to a log file.

    Stopping signals the child's own process group, by the id this object started, so nothing the test did not
    start is touched, and nothing the child started outlives it.
    """

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.argv = [str(part) for part in argv]
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.alive:
            raise RuntimeError(f"{self.name} is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=self.env, cwd=ROOT, start_new_session=True)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_bytes(self) -> bytes:
        return self.log_path.read_bytes() if self.log_path.exists() else b""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_bytes().decode("utf-8", errors="replace").splitlines()[-lines:])

    async def wait_until(self, ready: Callable[[], Awaitable[bool]], what: str, patience: float = PATIENCE) -> None:
        """Until ``ready()`` holds; fails with the log's tail if the process exits first or patience runs out."""
        async with asyncio.timeout(patience):
            while True:
                if not self.alive:
                    code = self.proc.returncode if self.proc is not None else None
                    raise AssertionError(f"{self.name} exited ({code}) before {what}; log:\n{self.log_tail()}")
                if await ready():
                    return
                await asyncio.sleep(0.25)  # polling interval, not a timing assumption

    def stop(self, grace: float = 30.0) -> int | None:
        """SIGTERM to the process group, then SIGKILL after ``grace`` seconds; the exit code (None: never ran)."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:  # not reaped yet, so its pid (= its group's id) cannot have been reused
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        return proc.returncode

    async def astop(self, grace: float = 30.0) -> int | None:
        return await asyncio.to_thread(self.stop, grace)


class DevServer(Service):
    """`temporal server start-dev` on a SQLite file with the WAL pragmas, on free ports of 127.0.0.1.

    Headless unless ``ui_port`` is given; then the Web UI is served there, decoding payloads through
    ``codec_endpoint`` if given.
    """

    def __init__(self, workdir: Path, *, ui_port: int | None = None, codec_endpoint: str | None = None,
                 log_level: str = "info") -> None:
        from runtime.binaries import temporal_cli_path

        self.cli = str(temporal_cli_path())
        self.port = free_port()
        self.ui_port = ui_port
        self.db_path = workdir / "temporal.sqlite"
        argv = [self.cli, "server", "start-dev", "--db-filename", str(self.db_path), "--ip", LOCALHOST,
                "--port", str(self.port), "--log-format", "json", "--log-level", log_level]
        for pragma in SQLITE_PRAGMAS:
            argv += ["--sqlite-pragma", pragma]
        if ui_port is None:
            argv.append("--headless")
        else:
            argv += ["--ui-port", str(ui_port), "--ui-disable-news-fetch"]
            if codec_endpoint:
                argv += ["--ui-codec-endpoint", codec_endpoint]
        super().__init__("temporal dev server", argv + search_attribute_args(), workdir / "temporal.log")

    @property
    def address(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    @property
    def ui_url(self) -> str:
        if self.ui_port is None:
            raise RuntimeError("this dev server is headless")
        return f"http://{LOCALHOST}:{self.ui_port}"

    def db_files(self) -> list[Path]:
        """The database and, while it is open (or if it was not checkpointed), its WAL and shared-memory files."""
        return [self.db_path, Path(f"{self.db_path}-wal"), Path(f"{self.db_path}-shm")]

    async def healthy(self) -> bool:
        probe = await asyncio.create_subprocess_exec(
            self.cli, "operator", "cluster", "health", "--address", self.address,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
        try:
            async with asyncio.timeout(30):
                out, _ = await probe.communicate()
        except TimeoutError:
            probe.kill()
            await probe.wait()
            return False
        return probe.returncode == 0 and b"SERVING" in out

    async def start_and_wait(self) -> None:
        self.start()
        await self.wait_until(self.healthy, "answering its health check")
        if self.ui_port is not None:
            await self.wait_until(lambda: _answers(f"{self.ui_url}/"), "serving the Web UI")


class WorkerService(Service):
    """`python worker.py` with ``env``; ready once it logs 'worker started'."""

    def __init__(self, workdir: Path, env: Mapping[str, str]) -> None:
        super().__init__("worker", [sys.executable, str(ROOT / "worker.py")], workdir / "worker.log", env)

    async def start_and_wait(self) -> None:
        self.start()

        async def started() -> bool:
            return b'"worker started"' in self.log_bytes()

        await self.wait_until(started, "logging 'worker started'")


class CodecService(Service):
    """`python -m runtime.codec_server` on a free port, allowing calls from ``ui_origins``."""

    def __init__(self, workdir: Path, env: Mapping[str, str], ui_origins: Sequence[str] = ()) -> None:
        self.port = free_port()
        argv = [sys.executable, "-m", "runtime.codec_server", "--host", LOCALHOST, "--port", str(self.port)]
        for origin in ui_origins:
            argv += ["--ui-origin", origin]
        super().__init__("codec server", argv, workdir / "codec.log", env)

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    async def start_and_wait(self) -> None:
        self.start()
        await self.wait_until(lambda: _answers(f"{self.url}/healthz"), "answering /healthz")


async def _answers(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as session, session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as r:
            return r.status < 500
    except (aiohttp.ClientError, TimeoutError):
        return False


def system_env(server: DevServer, data_dir: Path, keys_spec: str, task_queue: str, **extra: str) -> dict[str, str]:
    """The environment of the worker, the intake and the codec server of one test system."""
    return child_env(
        TEMPORAL_ADDRESS=server.address, TEMPORAL_NAMESPACE="default", MISSED_MEETING_TASK_QUEUE=task_queue,
        MISSED_MEETING_DATA_DIR=str(data_dir), MISSED_MEETING_PAYLOAD_KEYS=keys_spec,
        MISSED_MEETING_METRICS_ADDRESS="off", MISSED_MEETING_CHANNEL="outbox", PYTHONUNBUFFERED="1", **extra,
    )


async def run_command(argv: Sequence[str], env: Mapping[str, str], stdout: Path, stderr: Path,
                      patience: float = PATIENCE) -> int:
    """Run a command to its end (in its own process group), its output to two files; its exit code."""
    stdout.parent.mkdir(parents=True, exist_ok=True)
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=ROOT, env=dict(env), stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=err,
            start_new_session=True)
        try:
            async with asyncio.timeout(patience):
                return await process.wait()
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()


# -- cases on a case clock of their own ---------------------------------------------------------------------------

CPH = ZoneInfo("Europe/Copenhagen")
CASE_CLOCK_START = datetime(2026, 3, 4, 10, 0, tzinfo=CPH)
"""What a case's clock says when a test starts it: a Wednesday at 10:00, five office hours to go."""
CASE_CLOCK_ABSENCE = datetime(2026, 3, 2, 10, 0, tzinfo=CPH)
"""A missed meeting for such a case: the Monday before, so its hearing letters are due at once."""


class CaseClock:
    """A dev server runs in real time, and a case sends letters only in office hours on working days. Cases
    started through ``client()`` live on the clock of a Wednesday morning (the simulation's clock offset,
    `CaseInput.clock_offset_seconds`) whenever the test runs, so what they do at once is the same at night."""

    def __init__(self) -> None:
        self.offset_seconds = float(math.floor((datetime.now(UTC) - CASE_CLOCK_START).total_seconds()))

    def now(self) -> datetime:
        return (datetime.now(UTC) - timedelta(seconds=self.offset_seconds)).astimezone(CPH).replace(microsecond=0)

    def interceptor(self) -> Interceptor:
        """Shifts every case the client starts (through the intake's own gateway, say) onto this clock."""
        return _ShiftCaseClock(self.offset_seconds)


class _ShiftCaseClock(Interceptor):
    def __init__(self, offset_seconds: float) -> None:
        self.offset_seconds = offset_seconds

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _ShiftingOutbound(next, self.offset_seconds)


class _ShiftingOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, offset_seconds: float) -> None:
        super().__init__(next)
        self.offset_seconds = offset_seconds

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        from workflows.api import CaseInput

        input.args = [a.model_copy(update={"clock_offset_seconds": self.offset_seconds})
                      if isinstance(a, CaseInput) else a for a in input.args]
        return await super().start_workflow(input)
