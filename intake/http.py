"""The HTTP intake (`python starter.py serve`): jobcenter systems POST events; the file intake's rules apply.

`POST /events` takes one JSON event, a JSON array of events, or JSON lines (intake/body.py) and runs them
through the same `Intake` as `starter.py events`: the same validation, deduplication, per-meeting order and
rejects file. The answer lists every event by its 0-based `index` with its outcome: `started` / `delivered`
with the case's workflow id, `duplicate` (nothing done a second time), `rejected` with the reason (the
event is also kept whole in the rejects file under the data dir), or `not_processed` when Temporal could not
be used (send them again: re-sending is always safe). Status: 202 all taken (or duplicates), 422 some
rejected, 503 the run had to stop, mirroring the exit codes 0, 2 and 1 of the file intake.

`GET /healthz` answers whether Temporal is reachable; `GET /metrics` counts requests and events (Prometheus
text). Those two need no token; `/events` needs `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import uuid
from collections.abc import AsyncGenerator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web
from temporalio.client import Client

from domain.policy import Policy
from intake.body import split_body
from intake.events import DEFAULT_CONCURRENCY, Intake, LineResult, Summary
from intake.gateway import DEFAULT_UPDATE_TIMEOUT, CaseGateway
from intake.reader import SourceLine
from intake.rejects import RejectsFile, redact
from runtime.prometheus import CONTENT_TYPE, Registry
from workflows.api import TASK_QUEUE, workflow_id_for

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_CONCURRENT_REQUESTS = 8
"""Requests processed at once; more wait. Each runs up to DEFAULT_CONCURRENCY events in parallel."""
HEALTH_TIMEOUT = timedelta(seconds=3)
RETRY_AFTER_SECONDS = 10
REJECTS_FILE = "intake-rejects.jsonl"
"""Under the data dir: every event an HTTP request had rejected, kept whole (see intake/rejects.py)."""

_OUTCOMES = {"started": "started", "delivered": "delivered", "duplicate": "duplicate", "rejected": "rejected",
             "halted": "not_processed", "skipped": "not_processed"}


class BodyTooLarge(Exception):
    """The request body is over the limit: nothing of it is processed."""


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def _event_id(result: LineResult) -> str | None:
    """The event's id, also for a line that failed validation if its JSON holds one; redacted like reasons."""
    if result.event is not None:
        return redact(result.event.event_id)
    try:
        data = json.loads(result.line.raw)
    except ValueError:
        return None
    value = data.get("event_id") if isinstance(data, dict) else None
    return redact(value) if isinstance(value, str) else None


def describe(result: LineResult) -> dict[str, Any]:
    """One event of the answer: index, event id, outcome, and the case's workflow id or the reason."""
    outcome = _OUTCOMES[result.kind]
    item: dict[str, Any] = {"index": result.line.number - 1, "event_id": _event_id(result), "outcome": outcome}
    if outcome in ("started", "delivered", "duplicate") and result.event is not None:
        item["workflow_id"] = redact(workflow_id_for(result.event.meeting_id))
    if result.reason:
        item["reason"] = redact(result.reason)
    elif outcome == "not_processed":
        item["reason"] = "not processed: the intake had to stop; send it again"
    return item


async def _lines(lines: Sequence[SourceLine]) -> AsyncGenerator[SourceLine, None]:
    for line in lines:
        yield line


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, refusing more than ``limit`` bytes whether or not Content-Length says so."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class IntakeService:
    """The aiohttp application around one Temporal client, one gateway and one rejects file."""

    def __init__(
        self,
        client: Client,
        policy: Policy,
        *,
        rejects_path: Path,
        token: str | None,
        task_queue: str = TASK_QUEUE,
        max_body_bytes: int = MAX_BODY_BYTES,
        concurrency: int = DEFAULT_CONCURRENCY,
        update_timeout: timedelta = DEFAULT_UPDATE_TIMEOUT,
    ) -> None:
        self._client = client
        self._gateway = CaseGateway(client, policy, task_queue=task_queue, update_timeout=update_timeout)
        self._rejects_path = rejects_path
        self._token = token.encode("utf-8") if token is not None else None
        self._max_body = max_body_bytes
        self._concurrency = concurrency
        self._busy = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)
        self.metrics = Registry()
        self._requests = self.metrics.counter(
            "missed_meeting_intake_requests_total", "HTTP requests to /events, by status", ("status",))
        self._events = self.metrics.counter(
            "missed_meeting_intake_events_total", "Events received over HTTP, by outcome", ("outcome",))

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self._max_body)
        app.router.add_post("/events", self.events)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics_text)
        return app

    async def events(self, request: web.Request) -> web.Response:
        response = await self._events_response(request)
        self._requests.inc(status=str(response.status))
        return response

    async def _events_response(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            response = _error(401, "missing or wrong bearer token (Authorization: Bearer <token>)")
            response.headers["WWW-Authenticate"] = 'Bearer realm="missed-meeting-intake"'
            return response
        try:
            body = await read_body(request, self._max_body)
        except BodyTooLarge:
            return _error(413, f"request body is larger than {self._max_body} bytes; nothing was processed. "
                          "Send the events in smaller batches.", max_bytes=self._max_body)
        lines = split_body(body)
        if not lines:
            return _error(400, "empty body: send one JSON event, a JSON array of events, or JSON lines")
        problem = await self.temporal_problem()
        if problem is not None:
            response = _error(503, f"Temporal is {problem}: nothing was processed; send the events again later")
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        request_id = uuid.uuid4().hex
        async with self._busy:
            results, summary = await self._run(lines, request_id)
        return self._answer(request_id, lines, results, summary)

    def _authorized(self, request: web.Request) -> bool:
        if self._token is None:  # --insecure-dev
            return True
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode("utf-8"), self._token)

    async def _run(self, lines: list[SourceLine], request_id: str) -> tuple[dict[int, LineResult], Summary]:
        results: dict[int, LineResult] = {}
        with RejectsFile(self._rejects_path, f"http request {request_id}") as rejects:
            intake = Intake(self._gateway, rejects=rejects, err=None, concurrency=self._concurrency,
                            on_result=lambda result: results.__setitem__(result.line.number, result))
            summary = await intake.run(_lines(lines))
        return results, summary

    def _answer(
        self, request_id: str, lines: list[SourceLine], results: dict[int, LineResult], summary: Summary
    ) -> web.Response:
        items = [
            describe(results[line.number]) if line.number in results else describe(LineResult(line, "skipped"))
            for line in lines
        ]
        counts = {outcome: 0 for outcome in ("started", "delivered", "duplicate", "rejected", "not_processed")}
        for item in items:
            counts[item["outcome"]] += 1
            self._events.inc(outcome=item["outcome"])
        body: dict[str, Any] = {"request_id": request_id, "received": len(items), "counts": counts, "events": items}
        status, headers = 202, {}
        if summary.halted_at is not None:
            status = 503
            headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            body["error"] = (f"the intake had to stop: {redact(summary.halted_reason)}. "
                             f"{counts['not_processed']} event(s) not processed; sending them again is safe")
        elif counts["rejected"]:
            status = 422
            body["error"] = (f"{counts['rejected']} of {len(items)} event(s) rejected (each with its reason; kept "
                             f"under request id {request_id}); the others were taken")
        log.info("http_events", request_id=request_id, status=status, **counts)
        return web.json_response(body, status=status, headers=headers)

    async def temporal_problem(self) -> str | None:
        """None if Temporal answers its health check, else what is wrong (the client connects lazily)."""
        try:
            serving = await self._client.service_client.check_health(timeout=HEALTH_TIMEOUT)
        except Exception as exc:  # unreachable, refused, timed out: all mean "not usable now"
            return f"unreachable ({type(exc).__name__})"
        return None if serving else "not serving"

    async def healthz(self, request: web.Request) -> web.Response:
        problem = await self.temporal_problem()
        if problem is not None:
            return web.json_response({"ok": False, "temporal": problem}, status=503)
        return web.json_response({"ok": True, "temporal": "serving", "namespace": self._client.namespace})

    async def metrics_text(self, request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.render().encode("utf-8"), headers={"Content-Type": CONTENT_TYPE})
