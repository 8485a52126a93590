"""The codec server for operations: /healthz for the orchestrator, /metrics for Prometheus, its address from
the environment (compose binds it to the container's address), and no payload content in either."""

from __future__ import annotations

import json
from collections.abc import Iterator

import aiohttp
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from runtime.codec import EncryptionCodec
from runtime.codec_server import make_server
from runtime.keys import KeyRing
from runtime.prometheus import Registry
from tests.processes import Child, child_env, free_port

KEYS = KeyRing.generate("ops-key")


@pytest.fixture
def codec() -> Iterator[tuple[str, Registry]]:
    import threading

    metrics = Registry()
    server = make_server(KEYS, port=0, metrics=metrics)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", metrics
    finally:
        server.shutdown()
        server.server_close()


async def test_healthz_and_metrics_count_requests_not_content(codec: tuple[str, Registry]) -> None:
    url, metrics = codec
    sealed = EncryptionCodec(KEYS).seal(Payload(metadata={"encoding": b"json/plain"}, data=b'"0101901234"'))
    body = json_format.MessageToJson(Payloads(payloads=[sealed]))
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/healthz") as response:
            assert response.status == 200 and await response.json() == {"ok": True, "key": "ops-key"}
        async with session.post(f"{url}/decode", data=body, headers={"Content-Type": "application/json"}) as r:
            assert r.status == 200
        async with session.post(f"{url}/decode", data=b"nonsense") as r:
            assert r.status == 400
        async with session.get(f"{url}/metrics") as response:
            assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
            text = await response.text()
    assert 'missed_meeting_codec_requests_total{path="/decode",status="200"} 1' in text
    assert 'missed_meeting_codec_requests_total{path="/decode",status="400"} 1' in text
    assert 'missed_meeting_codec_requests_total{path="/healthz",status="200"} 1' in text
    assert 'missed_meeting_codec_calls_total{operation="decode"} 1' in text
    assert "0101901234" not in text and metrics.render().startswith("# HELP")


async def test_host_and_port_come_from_the_environment() -> None:
    port = free_port()
    child = await Child.start("-m", "runtime.codec_server", env=child_env(
        MISSED_MEETING_PAYLOAD_KEYS=KEYS.to_spec(), MISSED_MEETING_CODEC_HOST="127.0.0.1",
        MISSED_MEETING_CODEC_PORT=str(port), MISSED_MEETING_CODEC_UI_ORIGINS="http://localhost:8080"))
    try:
        await child.wait_for_http(f"http://127.0.0.1:{port}/healthz")
        async with aiohttp.ClientSession() as session, session.options(
            f"http://127.0.0.1:{port}/decode", headers={"Origin": "http://localhost:8080"}
        ) as response:
            assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:8080"
    finally:
        await child.kill()
    listening = [json.loads(line) for line in child.lines if '"codec server listening"' in line]
    assert listening and listening[0]["url"] == f"http://127.0.0.1:{port}"


async def test_a_bad_port_setting_is_a_clear_error() -> None:
    child = await Child.start("-m", "runtime.codec_server", env=child_env(MISSED_MEETING_CODEC_PORT="http"))
    assert await child.wait() == 1
    assert "MISSED_MEETING_CODEC_PORT" in child.log and "Traceback" not in child.log
