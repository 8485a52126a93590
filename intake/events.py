"""`python starter.py events FILE|-`: feed jobcenter events (JSON lines) to the case workflows.

Each line is parsed and validated, deduplicated by event id, and either starts a case (`meeting_missed`) or
is delivered to its case as an update. Lines for different meetings run concurrently (bounded), lines for
the same meeting strictly in input order, and every message is reported in line order. A bad line is never
dropped: its number and reason go to stderr (never a CPR number), the line itself to the rejects file, and
the run goes on. Exit code: 0 all accepted or duplicates, 2 some line rejected, 1 the run had to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, Literal, TextIO

import structlog
from temporalio.client import Client

from domain.events import EventError, MeetingMissed, parse_event
from domain.policy import Policy
from intake.gateway import (
    DEFAULT_UPDATE_TIMEOUT,
    CaseGateway,
    DeliverableEvent,
    Gateway,
    IntakeHalted,
    Outcome,
)
from intake.reader import STDIN, SourceLine, read_lines_async, rejects_path_for
from intake.rejects import RejectsFile, redact
from workflows.api import TASK_QUEUE

log = structlog.get_logger(__name__)

DEFAULT_CONCURRENCY = 32
"""Events in flight at once. The dev server, not the intake, is the limit beyond this (architecture.md)."""
WINDOW_PER_SLOT = 8
"""Lines read ahead per concurrency slot, so one slow case cannot make the reorder buffer grow unbounded."""

EXIT_OK = 0
EXIT_HALTED = 1
EXIT_REJECTED = 2

Event = MeetingMissed | DeliverableEvent
LineKind = Literal["started", "delivered", "duplicate", "rejected", "halted", "skipped"]


@dataclass(frozen=True, slots=True)
class LineResult:
    """What became of one line: an `Outcome` kind, or `halted`/`skipped` when the run had to stop."""

    line: SourceLine
    kind: LineKind
    reason: str = ""
    event: Event | None = None


@dataclass(slots=True)
class Summary:
    """Counts for the operator; `halted_*` set when Temporal could not be used and the run stopped."""

    read: int = 0
    started: int = 0
    delivered: int = 0
    duplicates: int = 0
    rejected: int = 0
    not_processed: int = 0
    halted_at: int | None = None
    halted_reason: str = ""

    @property
    def exit_code(self) -> int:
        if self.halted_at is not None:
            return EXIT_HALTED
        return EXIT_REJECTED if self.rejected else EXIT_OK

    def count(self, kind: LineKind) -> None:
        match kind:
            case "started":
                self.started += 1
            case "delivered":
                self.delivered += 1
            case "duplicate":
                self.duplicates += 1
            case "rejected":
                self.rejected += 1
            case "halted" | "skipped":
                self.not_processed += 1

    def render(self, rejects_path: Path | None) -> str:
        """A short report: the counts, where rejected lines went, and how to go on after a stop."""
        lines = [
            f"read {self.read} event line(s): {self.started} case(s) started, {self.delivered} event(s) "
            f"delivered, {self.duplicates} duplicate(s), {self.rejected} rejected"
        ]
        if rejects_path is not None:
            lines.append(f"rejected lines appended to {rejects_path}")
        if self.halted_at is not None:
            lines.append(
                f"stopped at line {self.halted_at}: {redact(self.halted_reason)}; "
                f"{self.not_processed} line(s) read but not processed, the rest not read. Running the same "
                "input again is safe: what was done counts as duplicates."
            )
        return "\n".join(lines) + "\n"


class Intake:
    """Runs lines through the gateway: bounded concurrency, per-meeting order, reports in line order.

    One code path for every front: `starter.py events` reports to `err` (stderr), the HTTP intake
    (intake/http.py) passes `err=None` and collects each line's result through `on_result`.
    """

    def __init__(
        self,
        gateway: Gateway,
        *,
        rejects: RejectsFile,
        err: TextIO | None,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_result: Callable[[LineResult], None] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._gateway = gateway
        self._rejects = rejects
        self._err = err
        self._on_result = on_result
        self._slots = asyncio.Semaphore(concurrency)
        self._window = asyncio.Semaphore(concurrency * WINDOW_PER_SLOT)
        self._chains: dict[str, asyncio.Task[None]] = {}
        """The latest task per meeting id: the next event for that meeting waits for it."""
        self._first_line: dict[str, int] = {}
        """Event id → the line that first carried it, for duplicates within one input."""
        self._unreported: deque[int] = deque()
        self._finished: dict[int, LineResult] = {}
        self._halted = False
        self.summary = Summary()

    async def run(self, lines: AsyncGenerator[SourceLine, None]) -> Summary:
        """Process every line (or up to a halt) and return the counts once all are reported."""
        async with contextlib.aclosing(lines), asyncio.TaskGroup() as group:
            async for line in lines:
                if self._halted:
                    break
                await self._window.acquire()
                self.summary.read += 1
                self._unreported.append(line.number)
                self._submit(group, line)
        return self.summary

    def _submit(self, group: asyncio.TaskGroup, line: SourceLine) -> None:
        if line.decode_error:
            self._finish(LineResult(line, "rejected", "not UTF-8 text"))
            return
        try:
            event = parse_event(line.raw)
        except EventError as exc:
            self._finish(LineResult(line, "rejected", str(exc)))
            return
        first = self._first_line.setdefault(event.event_id, line.number)
        if first != line.number:
            self._finish(LineResult(line, "duplicate", f"event {event.event_id} repeats line {first}", event))
            return
        if isinstance(event, MeetingMissed) and _holds_cpr(event):
            reason = "meeting_id or case_id contains the citizen's CPR number"
            self._finish(LineResult(line, "rejected", reason, event))
            return
        meeting = event.meeting_id
        task = group.create_task(self._process(line, event, self._chains.get(meeting)))
        self._chains[meeting] = task
        task.add_done_callback(lambda done: self._forget(meeting, done))

    def _forget(self, meeting: str, task: asyncio.Task[None]) -> None:
        if self._chains.get(meeting) is task:
            del self._chains[meeting]

    async def _process(self, line: SourceLine, event: Event, before: asyncio.Task[None] | None) -> None:
        if before is not None:
            await asyncio.wait([before])  # the meeting's earlier event first; its own outcome is reported
        async with self._slots:
            if self._halted:
                self._finish(LineResult(line, "skipped", event=event))
                return
            try:
                if isinstance(event, MeetingMissed):
                    outcome: Outcome = await self._gateway.start_case(event)
                else:
                    outcome = await self._gateway.deliver(event)
            except IntakeHalted as exc:
                self._halted = True
                self._finish(LineResult(line, "halted", str(exc), event))
                return
            except Exception as exc:  # a bug: stop, without a message that could carry personal data
                self._halted = True
                log.error("intake_internal_error", line=line.number, error=type(exc).__name__)
                self._finish(LineResult(line, "halted", f"internal error ({type(exc).__name__})", event))
                return
        self._finish(LineResult(line, outcome.kind, outcome.reason, event))

    def _finish(self, result: LineResult) -> None:
        """Hold a result until every earlier line is reported, then report them in order."""
        self._finished[result.line.number] = result
        while self._unreported and self._unreported[0] in self._finished:
            self._report(self._finished.pop(self._unreported.popleft()))
            self._window.release()

    def _report(self, result: LineResult) -> None:
        summary, number, reason = self.summary, result.line.number, redact(result.reason)
        if result.kind == "rejected":
            self._write(f"line {number}: {reason}\n")
            self._rejects.append(number, result.reason, result.line.raw)
        elif result.kind == "halted" and summary.halted_at is None:
            summary.halted_at, summary.halted_reason = number, result.reason
            self._write(f"line {number}: stopped: {reason}\n")
        summary.count(result.kind)
        if self._on_result is not None:
            self._on_result(result)
        event = result.event
        log.log(
            logging.WARNING if result.kind == "halted" else logging.DEBUG,
            "event_line",
            line=number,
            outcome=result.kind,
            reason=reason or None,
            event_type=event.type if event else None,
            meeting_id=redact(event.meeting_id) if event else None,
            event_id=redact(event.event_id) if event else None,
        )

    def _write(self, message: str) -> None:
        if self._err is not None:
            self._err.write(message)


def _holds_cpr(event: MeetingMissed) -> bool:
    """Workflow ids and search attributes are visible to every operator: no CPR number may hide in them."""
    cpr = event.citizen.cpr
    hyphenated = f"{cpr[:6]}-{cpr[6:]}"
    return any(c in value for value in (event.meeting_id, event.case_id) for c in (cpr, hyphenated))


async def run_events(
    source: str,
    client: Client,
    *,
    policy: Policy,
    out: TextIO,
    err: TextIO,
    stdin: BinaryIO | None = None,
    task_queue: str = TASK_QUEUE,
    concurrency: int = DEFAULT_CONCURRENCY,
    update_timeout: timedelta = DEFAULT_UPDATE_TIMEOUT,
) -> int:
    """Run the events in `source` (a path, or `-` for stdin) and return the exit code (0, 1 or 2).

    Rejected lines go to `<input without .jsonl/.json>.rejects.jsonl` next to the input, or `rejects.jsonl`
    in the current directory for stdin. `stdin` defaults to `sys.stdin.buffer` (bytes, read off the loop).
    """
    rejects = RejectsFile(rejects_path_for(source), "stdin" if source == STDIN else source)
    with contextlib.ExitStack() as stack:
        if source == STDIN:
            stream = stdin if stdin is not None else sys.stdin.buffer
        else:
            try:
                stream = stack.enter_context(await asyncio.to_thread(Path(source).open, "rb"))
            except OSError as exc:
                err.write(f"cannot read {source}: {exc.strerror}\n")
                return EXIT_HALTED
        stack.enter_context(rejects)
        gateway = CaseGateway(client, policy, task_queue=task_queue, update_timeout=update_timeout)
        intake = Intake(gateway, rejects=rejects, err=err, concurrency=concurrency)
        summary = await intake.run(read_lines_async(stream, threaded=source == STDIN))
    out.write(summary.render(rejects.path if rejects.count else None))
    log.info("intake_done", source=source, read=summary.read, started=summary.started,
             delivered=summary.delivered, duplicates=summary.duplicates, rejected=summary.rejected,
             not_processed=summary.not_processed, exit_code=summary.exit_code)
    return summary.exit_code
