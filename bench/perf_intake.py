"""Part 1, intake: a burst of N meeting_missed events until every case workflow has started, beside the ceiling.

The figure is what a jobcenter runs: `python starter.py events FILE` as its own process (interpreter start,
connection and all), timed from launch to exit, when the server has acknowledged every start; and the HTTP
intake (`starter.py serve`, started once, like a service), timed from the first POST to the last answer, with
one request of up to 1,000 events in flight, so that it starts cases with its own concurrency as the file
intake does. The ceiling is bare `client.start_workflow` of the trivial workflow with the intake's concurrency
(32 in flight). A fourth measure, the intake's own `CaseGateway.start_case` called in process, shows what a
case start costs the server beyond a bare one (its input and search attributes), apart from the intake.
Each kind runs N starts per round, the rounds in alternating order, on the same server, and the median round
counts; no worker runs, so what is measured is starting, not running. The workflows of each kind are counted
afterwards.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from functools import partial
from pathlib import Path

import aiohttp

from bench.perf_data import meeting_missed, write_events
from bench.perf_env import BENCH_QUEUE, Server, Stopwatch, Tally, bounded, dev_server
from bench.perf_report import AT_LEAST_90_PERCENT, Row
from bench.perf_trivial import TRIVIAL_WORKFLOW, TrivialInput
from bench.processes import ROOT, free_port
from domain.events import MeetingMissed, parse_event
from domain.policy import load_policy
from intake.events import DEFAULT_CONCURRENCY
from intake.gateway import CaseGateway
from workflows.api import WORKFLOW_TYPE

ABSENCE = datetime.fromisoformat("2026-11-09T10:00:00+01:00")
"""A Monday; no worker runs in this part, so the case never gets to act on it."""
HTTP_BATCH = 1000
"""Events per POST: well inside the 1 MiB body limit (an event is about 500 bytes)."""
WARMUP = 50
ROUNDS = 3
"""Bursts of each kind; the median burst counts, so one disturbed by another process on the machine does not."""
KINDS = ("ceiling", "case start", "file", "http")


async def _ceiling(server: Server, prefix: str, count: int) -> Stopwatch:
    client = await server.client()
    inp = TrivialInput()
    calls = [lambda n=n: client.start_workflow(TRIVIAL_WORKFLOW, inp, id=f"{prefix}-{n:06d}", task_queue=BENCH_QUEUE)
             for n in range(count)]
    watch = Stopwatch(server)
    watch.start()
    await bounded(calls, DEFAULT_CONCURRENCY)
    watch.stop()
    return watch


async def _file_intake(server: Server, events: Path) -> Stopwatch:
    """`python starter.py events FILE` as a child process; its exit code must be 0 (all started)."""
    watch = Stopwatch(server)
    watch.start()
    proc = await asyncio.create_subprocess_exec(sys.executable, str(ROOT / "starter.py"), "events", str(events),
                                                cwd=ROOT, env=server.env(), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    watch.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"starter.py events exited {proc.returncode}: {out.decode()[-500:]} {err.decode()[-800:]}")
    return watch


class HttpIntake:
    """`python starter.py serve --insecure-dev` on a free loopback port, fed by POST /events."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: asyncio.subprocess.Process | None = None
        self.log = server.workdir / "intake-http.log"

    async def __aenter__(self) -> HttpIntake:
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "starter.py"), "serve", "--insecure-dev", "--host", "127.0.0.1",
                "--port", str(self.port), cwd=ROOT, env=self.server.env(), stdout=log, stderr=log,
                start_new_session=True)
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                if self.proc.returncode is not None:
                    raise RuntimeError(f"starter.py serve exited during start-up; see {self.log}")
                try:
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"starter.py serve did not answer; see {self.log}")

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()

    async def feed(self, events: Path) -> Stopwatch:
        lines = (await asyncio.to_thread(events.read_bytes)).splitlines(keepends=True)
        batches = [b"".join(lines[i:i + HTTP_BATCH]) for i in range(0, len(lines), HTTP_BATCH)]
        watch = Stopwatch(self.server)
        timeout = aiohttp.ClientTimeout(total=600)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            watch.start()
            for body in batches:
                async with session.post(f"{self.url}/events", data=body,
                                        headers={"Content-Type": "application/x-ndjson"}) as response:
                    answer = await response.json()
                    if response.status != 202 or answer["counts"]["started"] != body.count(b"\n"):
                        raise RuntimeError(f"HTTP intake answered {response.status}: {answer.get('counts')}")
            watch.stop()
        return watch


async def _count(server: Server, workflow_type: str, prefix: str, expected: int) -> int:
    """How many such workflows the server lists; visibility trails the starts by a moment, so ask a few times."""
    client = await server.client()
    query = f'WorkflowType="{workflow_type}" AND WorkflowId STARTS_WITH "{prefix}"'
    count = 0
    for _ in range(100):
        count = (await client.count_workflows(query)).count
        if count >= expected:
            break
        await asyncio.sleep(0.1)
    return count


async def _case_starts(server: Server, prefix: str, count: int) -> Stopwatch:
    """What a case start costs by itself: `CaseGateway.start_case` in this process (the intake's own call, with
    its input and search attributes), the intake's concurrency, no file, no process, no parsing."""
    client = await server.client()
    gateway = CaseGateway(client, load_policy(), task_queue=BENCH_QUEUE)
    events = []
    for n in range(count):
        event = parse_event(json.dumps(meeting_missed(prefix, n, ABSENCE), ensure_ascii=False))
        assert isinstance(event, MeetingMissed)
        events.append(event)
    gateway.snapshot_for(events[0])  # the policy snapshot is cached per year: not part of a start
    watch = Stopwatch(server)
    watch.start()
    outcomes = await bounded([partial(gateway.start_case, e) for e in events], DEFAULT_CONCURRENCY)
    watch.stop()
    if any(o.kind != "started" for o in outcomes):
        raise RuntimeError("case starts: not every case started")
    return watch


async def run_intake(size: int, keep: Path | None = None, rounds: int = ROUNDS) -> list[Row]:
    """Bare starts, case starts, file intake, HTTP intake, N each, then the same in reverse order (`rounds`
    times in all), on one fresh server: reversing cancels the drift of a growing database and a busy machine."""
    async with dev_server(f"intake-{size}", keep=keep) as server, HttpIntake(server) as http:
        await _ceiling(server, "warm-trivial", WARMUP)
        await _file_intake(server, write_events(server.workdir / "warm.jsonl", "warm", WARMUP, ABSENCE))
        await http.feed(write_events(server.workdir / "warm-http.jsonl", "warmhttp", WARMUP, ABSENCE))
        await server.measure_idle()

        tallies = {kind: Tally() for kind in KINDS}

        async def measure(kind: str, prefix: str) -> Stopwatch:
            if kind == "ceiling":
                return await _ceiling(server, f"ceiling-{prefix}", size)
            if kind == "case start":
                return await _case_starts(server, f"start{prefix}", size)
            events = write_events(server.workdir / f"{kind}-{prefix}.jsonl", f"{kind}{prefix}", size, ABSENCE)
            return await (_file_intake(server, events) if kind == "file" else http.feed(events))

        for round_number in range(rounds):
            order = KINDS if round_number % 2 == 0 else tuple(reversed(KINDS))
            for kind in order:
                tallies[kind].add(size, await measure(kind, f"r{round_number}"))

        checks = [("ceiling-", TRIVIAL_WORKFLOW)] + [(f"missed-meeting-{kind}r", WORKFLOW_TYPE)
                                                    for kind in ("start", "file", "http")]
        for prefix, workflow_type in checks:
            found = await _count(server, workflow_type, prefix, rounds * size)
            if found != rounds * size:
                raise RuntimeError(f"intake benchmark: {found} workflows {prefix}* on the server, "
                                   f"expected {rounds * size}")
    return _rows(size, rounds, tallies)


def _rows(size: int, rounds: int, tallies: dict[str, Tally]) -> list[Row]:
    ceiling = tallies["ceiling"]

    def seconds(kind: str) -> str:
        return f"{size / tallies[kind].median_rate:.1f} s"

    def cpu(kind: str) -> str:
        return f"{1000 * tallies[kind].median_cpu_per_item:.2f} ms/start"

    file_, http_, start = tallies["file"], tallies["http"], tallies["case start"]
    return [
        Row("intake", "file events/s", size, file_.median_rate, "/s", ceiling.median_rate, AT_LEAST_90_PERCENT,
            f"`starter.py events FILE` as a process, launch to exit ({seconds('file')}, server {cpu('file')}); "
            f"ceiling: bare start_workflow of the trivial workflow, {DEFAULT_CONCURRENCY} in flight "
            f"({seconds('ceiling')}, server {cpu('ceiling')}); median of {rounds} bursts each, alternating"),
        Row("intake", "HTTP events/s", size, http_.median_rate, "/s", ceiling.median_rate, AT_LEAST_90_PERCENT,
            f"`starter.py serve`, POST /events of {HTTP_BATCH} events, one request at a time, first POST to last "
            f"answer ({seconds('http')}, server {cpu('http')})"),
        Row("intake", "case starts/s (no intake)", size, start.median_rate, "/s", ceiling.median_rate, None,
            f"`CaseGateway.start_case` in process: the case's 2 KB encrypted input and 4 search attributes, "
            f"nothing else of the intake ({seconds('case start')}, server {cpu('case start')}): what a case start "
            "costs beyond a bare one"),
    ]
