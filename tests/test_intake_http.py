"""The HTTP intake over real HTTP: an aiohttp client against the service on 127.0.0.1, with a real worker on
the time-skipping server. The same events as the file intake's tests, so the two fronts are seen to agree."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from intake.http import REJECTS_FILE, IntakeService
from intake.rejects import raw_lines
from intake.serve import ServeError, checked_token, running
from runtime.keys import KeyRing
from runtime.settings import Settings
from runtime.temporal import connect
from tests.factories import CPR, default_policy, meeting_missed_data
from tests.processes import Child, child_env, free_port
from tests.temporal_env import case_worker, start_env
from tests.test_intake_temporal import EXAMPLES, with_prefix
from workflows import search_attributes as sa
from workflows.api import workflow_id_for

TOKEN = secrets.token_urlsafe(32)
KEYS = KeyRing.generate()


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await start_env(KEYS) as environment:
        yield environment


@asynccontextmanager
async def service_at(client: Client, rejects: Path, task_queue: str = "unused", **options: Any
                     ) -> AsyncIterator[tuple[str, IntakeService]]:
    service = IntakeService(client, default_policy(), rejects_path=rejects, token=TOKEN, task_queue=task_queue,
                            **options)
    async with running(service, "127.0.0.1", 0) as url:
        yield url, service


async def post(url: str, body: Any, *, token: str | None = TOKEN, content_type: str = "application/json"
               ) -> tuple[int, dict[str, Any], CIMultiDictProxy[str]]:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession() as session, session.post(f"{url}/events", data=body,
                                                                headers=headers) as response:
        assert response.content_type == "application/json"
        return response.status, await response.json(), response.headers


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_events_start_cases_and_sending_them_again_reports_duplicates(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    prefix = f"h{uuid.uuid4().hex[:6]}-"
    events = with_prefix(EXAMPLES / "events.jsonl", tmp_path / "events.jsonl", prefix)
    async with case_worker(env, tmp_path / "outbox.sqlite") as (worker, _), \
            service_at(env.client, tmp_path / REJECTS_FILE, worker.task_queue) as (url, _):
        status, body, _ = await post(url, events.read_bytes(), content_type="application/x-ndjson")
        assert status == 202, body
        assert body["counts"] == {"started": 6, "delivered": 5, "duplicate": 0, "rejected": 0, "not_processed": 0}
        assert [e["index"] for e in body["events"]] == list(range(11))
        first = body["events"][0]
        assert first["outcome"] == "started" and first["event_id"] == "jc-2026-000101"
        assert first["workflow_id"] == workflow_id_for(prefix + "M-2026-0001")
        described = await env.client.get_workflow_handle(first["workflow_id"]).describe()
        assert described.typed_search_attributes.get(sa.CASE_ID) == "K-2026-0001"
        assert all(e["workflow_id"].startswith("missed-meeting-" + prefix) for e in body["events"])

        # the same events again, now as one JSON array: nothing is done twice
        array = json.dumps([json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()])
        status, again, _ = await post(url, array)
        assert status == 202
        assert again["counts"]["duplicate"] == 11
        assert [e["workflow_id"] for e in again["events"]] == [e["workflow_id"] for e in body["events"]]
    cprs = [json.loads(line)["citizen"]["cpr"] for line in events.read_text(encoding="utf-8").splitlines()
            if '"meeting_missed"' in line]
    assert not any(cpr in json.dumps([body, again]) for cpr in cprs)
    assert not (tmp_path / REJECTS_FILE).exists()


async def test_bad_events_are_rejected_with_index_and_reason_and_kept(env: WorkflowEnvironment, tmp_path: Path) -> None:
    prefix = f"x{uuid.uuid4().hex[:6]}-"
    events = with_prefix(EXAMPLES / "events.jsonl", tmp_path / "events.jsonl", prefix)
    bad = with_prefix(EXAMPLES / "bad-events.jsonl", tmp_path / "bad-events.jsonl", prefix)
    rejects = tmp_path / "data" / REJECTS_FILE
    async with case_worker(env, tmp_path / "outbox.sqlite") as (worker, _), \
            service_at(env.client, rejects, worker.task_queue) as (url, _):
        assert (await post(url, events.read_bytes(), content_type="application/x-ndjson"))[0] == 202
        status, body, _ = await post(url, bad.read_bytes(), content_type="application/x-ndjson")

    assert status == 422
    assert body["counts"]["rejected"] == 7 and "7 of 7 event(s) rejected" in body["error"]
    reasons = [e["reason"] for e in body["events"]]
    assert [e["index"] for e in body["events"]] == list(range(7))
    assert {e["outcome"] for e in body["events"]} == {"rejected"}
    assert reasons[0].startswith("not JSON")
    assert reasons[1] == "type: unknown event type"
    assert reasons[2] == "case_id: missing field"
    assert reasons[4] == f"no case for meeting {prefix}M-2026-0999"
    assert reasons[5].startswith("no home_visit task is open")
    assert reasons[6].startswith("decision refused:")
    assert body["events"][0]["event_id"] is None  # not JSON: no id to give
    assert body["events"][1]["event_id"] == "jc-2026-000301"  # failed validation, but its id is readable
    assert CPR in bad.read_text(encoding="utf-8") and CPR not in json.dumps(body)

    records = [json.loads(r) for r in rejects.read_text(encoding="utf-8").splitlines()]
    assert raw_lines(rejects) == bad.read_text(encoding="utf-8").splitlines()  # nothing lost, verbatim
    assert {r["source"] for r in records} == {f"http request {body['request_id']}"}
    assert rejects.stat().st_mode & 0o077 == 0


async def test_one_event_or_a_mixed_array(env: WorkflowEnvironment, tmp_path: Path) -> None:
    meeting = f"M-one-{uuid.uuid4().hex[:6]}"
    good = meeting_missed_data(meeting_id=meeting)
    async with case_worker(env, tmp_path / "outbox.sqlite") as (worker, _), \
            service_at(env.client, tmp_path / REJECTS_FILE, worker.task_queue) as (url, _):
        status, body, _ = await post(url, json.dumps(good))
        assert status == 202 and body["events"][0]["outcome"] == "started"
        status, body, _ = await post(url, json.dumps([good, 42, {"event_id": "e-9", "type": "citizen_attended"}]))
    assert status == 422
    assert [e["outcome"] for e in body["events"]] == ["duplicate", "rejected", "rejected"]
    assert body["events"][0]["workflow_id"] == workflow_id_for(meeting)
    assert body["events"][1]["event_id"] is None and body["events"][2]["event_id"] == "e-9"
    assert raw_lines(tmp_path / REJECTS_FILE) == ["42", json.dumps({"event_id": "e-9", "type": "citizen_attended"})]


async def test_requests_without_the_token_or_too_large_are_refused_clearly(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    event = json.dumps(meeting_missed_data(meeting_id="M-never"))
    async with service_at(env.client, tmp_path / REJECTS_FILE, max_body_bytes=4096) as (url, service):
        status, body, headers = await post(url, event, token=None)
        assert (status, headers["WWW-Authenticate"]) == (401, 'Bearer realm="missed-meeting-intake"')
        assert "bearer token" in body["error"]
        assert (await post(url, event, token="wrong-" + TOKEN))[0] == 401
        assert (await post(url, event, token=TOKEN[:-1]))[0] == 401  # a prefix of the token is not the token

        status, body, _ = await post(url, b"x" * 5000)
        assert status == 413 and body["max_bytes"] == 4096 and "nothing was processed" in body["error"]

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds all the same
            for _ in range(10):
                yield b" " * 1000

        assert (await post(url, chunks()))[0] == 413
        status, body, _ = await post(url, b"  \n\n")
        assert status == 400 and "empty body" in body["error"]

        status, text = await get(f"{url}/metrics")
        assert status == 200
        assert 'missed_meeting_intake_requests_total{status="401"} 3' in text
        assert 'missed_meeting_intake_requests_total{status="413"} 2' in text
        assert service.metrics.render() == text
    assert not (tmp_path / REJECTS_FILE).exists()


async def test_health_follows_temporal(env: WorkflowEnvironment, tmp_path: Path) -> None:
    async with service_at(env.client, tmp_path / REJECTS_FILE) as (url, _):
        status, text = await get(f"{url}/healthz")
        assert status == 200 and json.loads(text) == {"ok": True, "temporal": "serving", "namespace": "default"}

    nowhere = await connect(f"127.0.0.1:{free_port()}", "default", KEYS, lazy=True)
    async with service_at(nowhere, tmp_path / REJECTS_FILE) as (url, _):
        status, text = await get(f"{url}/healthz")
        assert status == 503 and json.loads(text)["ok"] is False
        status, body, headers = await post(url, json.dumps(meeting_missed_data(meeting_id="M-down")))
        assert status == 503 and "nothing was processed" in body["error"] and headers["Retry-After"]
    assert not (tmp_path / REJECTS_FILE).exists()


def test_the_token_is_required_unless_insecure_dev_on_loopback(tmp_path: Path) -> None:
    bare = Settings.model_validate({})
    with pytest.raises(ServeError, match="no intake token"):
        checked_token(bare, "127.0.0.1", insecure_dev=False)
    with pytest.raises(ServeError, match="only on a loopback address"):
        checked_token(bare, "0.0.0.0", insecure_dev=True)
    assert checked_token(bare, "127.0.0.1", insecure_dev=True) is None
    assert checked_token(bare, "::1", insecure_dev=True) is None

    token_file = tmp_path / "intake-token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    from_file = Settings.model_validate({"MISSED_MEETING_INTAKE_TOKEN_FILE": str(token_file)})
    assert checked_token(from_file, "0.0.0.0", insecure_dev=False) == TOKEN
    with pytest.raises(ServeError, match="at least 24 characters") as short:
        checked_token(Settings.model_validate({"MISSED_MEETING_INTAKE_TOKEN": "short-secret"}), "::1", False)
    assert "short-secret" not in str(short.value)
    with pytest.raises(ServeError, match="cannot read"):
        checked_token(Settings.model_validate({"MISSED_MEETING_INTAKE_TOKEN_FILE": str(tmp_path / "no")}),
                      "::1", False)


async def test_starter_serve_runs_until_sigterm_and_refuses_to_start_without_a_token(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    base = child_env(TEMPORAL_ADDRESS=env.client.service_client.config.target_host,
                     MISSED_MEETING_PAYLOAD_KEYS=KEYS.to_spec(), MISSED_MEETING_DATA_DIR=str(tmp_path))
    refused = await Child.start("starter.py", "serve", "--host", "0.0.0.0", env=base)
    assert await refused.wait() == 1
    assert "MISSED_MEETING_INTAKE_TOKEN_FILE" in refused.log and "Traceback" not in refused.log

    token_file = tmp_path / "intake-token"
    token_file.write_text(TOKEN, encoding="utf-8")
    port = free_port()
    service = await Child.start("starter.py", "serve", "--port", str(port),
                                env={**base, "MISSED_MEETING_INTAKE_TOKEN_FILE": str(token_file)})
    url = f"http://127.0.0.1:{port}"
    try:
        await service.wait_for_http(f"{url}/healthz")
        status, text = await get(f"{url}/healthz")
        assert status == 200, text
        status, body, _ = await post(url, json.dumps({"event_id": "e-1", "type": "unknown"}))
        assert status == 422 and body["events"][0]["reason"] == "type: unknown event type"
    finally:
        code = await service.terminate()
    assert code == 0, service.log
    assert '"intake stopped"' in service.log and TOKEN not in service.log
    assert raw_lines(tmp_path / REJECTS_FILE) == [json.dumps({"event_id": "e-1", "type": "unknown"})]
