"""Payload encryption: personal data never reaches Temporal in the clear, and keys can rotate."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import stat
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from runtime import temporal
from runtime.codec import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    PayloadDecryptionError,
    TamperedPayloadError,
    UnknownKeyError,
    data_converter,
)
from runtime.codec_server import make_server
from runtime.keys import (
    KEYS_ENV,
    KeyConfigError,
    KeyRing,
    ensure_key_file,
    load_keys,
    rotate_key_file,
)
from tests.codec_test_workflow import Citizen, CodecTestWorkflow, Greeting, greet, refuse

CPR = "0101901234"
NAME = "Søren Ærø Kjærgaard"
CITIZEN = Citizen(cpr=CPR, name=NAME)


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


async def _seal(codec: EncryptionCodec, value: object) -> Payload:
    [payload] = pydantic_data_converter.payload_converter.to_payloads([value])
    [sealed] = await codec.encode([payload])
    return sealed


# --- the codec ---------------------------------------------------------------------------------------


async def test_round_trip_through_the_data_converter() -> None:
    converter = data_converter(KeyRing.generate())
    payloads = await converter.encode([CITIZEN, {"n": 1}, None])
    assert [p.metadata["encoding"] for p in payloads] == [ENCODING] * 3
    assert await converter.decode(payloads, [Citizen, dict, type(None)]) == [CITIZEN, {"n": 1}, None]


async def test_ciphertext_contains_neither_cpr_nor_name() -> None:
    keys = KeyRing.generate("k1")
    sealed = await _seal(EncryptionCodec(keys), CITIZEN)
    wire = sealed.SerializeToString()
    for secret in (CPR, NAME, "Kjærgaard"):
        assert secret.encode() not in wire
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    assert sealed.metadata[KEY_ID_METADATA] == b"k1"
    # Control: the same check finds the CPR in an unencrypted payload, so it is able to fail.
    [plain] = pydantic_data_converter.payload_converter.to_payloads([CITIZEN])
    assert CPR.encode() in plain.SerializeToString()


async def test_every_encryption_uses_a_fresh_nonce() -> None:
    codec = EncryptionCodec(KeyRing.generate())
    first, second = await _seal(codec, CITIZEN), await _seal(codec, CITIZEN)
    assert first.data[:12] != second.data[:12]
    assert first.data != second.data


async def test_rotation_old_payloads_still_decrypt_new_ones_use_the_new_key() -> None:
    old = KeyRing.generate("old")
    old_payload = await _seal(EncryptionCodec(old), CITIZEN)
    rotated = old.rotated("new")
    assert rotated.current_id == "new"
    assert rotated.ids == ["new", "old"]
    codec = EncryptionCodec(rotated)
    new_payload = await _seal(codec, CITIZEN)
    assert new_payload.metadata[KEY_ID_METADATA] == b"new"
    decoded = await codec.decode([old_payload, new_payload])
    values = pydantic_data_converter.payload_converter.from_payloads(decoded, [Citizen, Citizen])
    assert values == [CITIZEN, CITIZEN]
    # A process that only has the old key cannot read what the new key sealed.
    with pytest.raises(UnknownKeyError):
        await EncryptionCodec(old).decode([new_payload])


async def test_unknown_key_id_is_a_clear_error_naming_the_key_not_the_content() -> None:
    sealed = await _seal(EncryptionCodec(KeyRing.generate("retired-2025")), CITIZEN)
    with pytest.raises(UnknownKeyError) as caught:
        await EncryptionCodec(KeyRing.generate("k2026")).decode([sealed])
    message = str(caught.value)
    assert "retired-2025" in message
    assert "k2026" in message
    assert CPR not in message and NAME not in message


@pytest.mark.parametrize("position", [0, 12, -1])  # nonce, ciphertext, tag
async def test_tampered_ciphertext_is_refused(position: int) -> None:
    keys = KeyRing.generate("k1")
    sealed = await _seal(EncryptionCodec(keys), CITIZEN)
    data = bytearray(sealed.data)
    data[position] ^= 0x01
    tampered = Payload(metadata=dict(sealed.metadata), data=bytes(data))
    with pytest.raises(TamperedPayloadError, match="'k1'") as caught:
        await EncryptionCodec(keys).decode([tampered])
    assert CPR not in str(caught.value)


async def test_relabelled_key_id_is_refused() -> None:
    """The key id is authenticated: pointing a payload at another known key fails, not garbage."""
    one, two = KeyRing.generate("one"), KeyRing.generate("two")
    both = KeyRing(current_id="one", keys={**one.keys, **two.keys})
    sealed = await _seal(EncryptionCodec(both), CITIZEN)
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID_METADATA: b"two"}, data=sealed.data)
    with pytest.raises(TamperedPayloadError, match="'two'"):
        await EncryptionCodec(both).decode([relabelled])


async def test_truncated_or_unlabelled_payloads_are_refused() -> None:
    codec = EncryptionCodec(KeyRing.generate("k1"))
    sealed = await _seal(codec, CITIZEN)
    with pytest.raises(TamperedPayloadError, match="truncated"):
        await codec.decode([Payload(metadata=dict(sealed.metadata), data=sealed.data[:20])])
    with pytest.raises(PayloadDecryptionError, match=KEY_ID_METADATA):
        await codec.decode([Payload(metadata={"encoding": ENCODING}, data=sealed.data)])


async def test_failure_messages_and_stack_traces_are_encrypted() -> None:
    converter = data_converter(KeyRing.generate())
    try:
        raise ApplicationError(f"citizen {CPR} not found", {"cpr": CPR}, type="NotFound")
    except ApplicationError as exc:
        failure = Failure()
        await converter.encode_failure(exc, failure)
    assert CPR.encode() not in failure.SerializeToString()
    assert failure.message == "Encoded failure"
    decoded = await converter.decode_failure(failure)
    assert isinstance(decoded, ApplicationError)
    assert decoded.message == f"citizen {CPR} not found"
    assert decoded.details == ({"cpr": CPR},)


# --- the key ring and its configuration -------------------------------------------------------------------


def test_key_spec_round_trip_and_current_first() -> None:
    ring = KeyRing.generate("a").rotated("b")
    parsed = KeyRing.parse(ring.to_spec())
    assert parsed.current_id == "b"
    assert parsed.keys == ring.keys
    assert _b64(ring.keys["a"]) not in repr(ring)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", "no payload keys"),
        ("justakey", "not of the form 'id:base64key'"),
        (":" + _b64(b"x" * 32), "not of the form"),
        ("k1:not base64!!", "'k1' is not valid base64"),
        ("k1:" + _b64(b"x" * 16), "'k1' is 16 bytes; AES-256 needs 32"),
        (f"k1:{_b64(b'x' * 32)},k1:{_b64(b'y' * 32)}", "'k1' appears twice"),
        (f"bad id:{_b64(b'x' * 32)}", "must be 1-64 of"),
    ],
)
def test_malformed_keys_are_a_clear_error_without_key_material(spec: str, expected: str) -> None:
    with pytest.raises(KeyConfigError, match=expected) as caught:
        KeyRing.parse(spec)
    assert _b64(b"x" * 32) not in str(caught.value)
    assert KEYS_ENV in str(caught.value)


def test_load_keys_prefers_the_environment(tmp_path: Path) -> None:
    ring = KeyRing.generate("from-env")
    loaded = load_keys({KEYS_ENV: ring.to_spec(), "MISSED_MEETING_DATA_DIR": str(tmp_path)})
    assert loaded.current_id == "from-env"
    assert loaded.keys == ring.keys


def test_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigError, match="does not exist: run scripts/setup"):
        load_keys({"MISSED_MEETING_DATA_DIR": str(tmp_path)})


def test_key_file_is_created_once_private_and_rotates(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "payload-keys"
    env = {"MISSED_MEETING_DATA_DIR": str(tmp_path)}
    assert ensure_key_file(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = load_keys(env)
    assert ensure_key_file(path) is False
    assert load_keys(env) == first
    new_id = rotate_key_file(path)
    rotated = load_keys(env)
    assert rotated.current_id == new_id != first.current_id
    assert rotated.keys[first.current_id] == first.keys[first.current_id]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "payload-keys"
    ensure_key_file(path)
    path.chmod(0o644)
    with pytest.raises(KeyConfigError, match="chmod 600"):
        KeyRing.from_file(path)


def test_runtime_data_converter_loads_configured_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(KEYS_ENV, raising=False)
    monkeypatch.setenv("MISSED_MEETING_DATA_DIR", str(tmp_path))
    with pytest.raises(KeyConfigError):
        temporal.data_converter()
    ensure_key_file(tmp_path / "keys" / "payload-keys")
    codec = temporal.data_converter().payload_codec
    assert isinstance(codec, EncryptionCodec)
    assert codec.keys == load_keys()
    given = KeyRing.generate("given")
    codec = temporal.data_converter(given).payload_codec
    assert isinstance(codec, EncryptionCodec) and codec.keys is given


# --- a real workflow on the time-skipping server ------------------------------------------------------------

KEYS = KeyRing.generate("test")


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    server = Path(sys.executable).parent / "temporal-test-server"
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(server), data_converter=data_converter(KEYS)
    ) as environment:
        yield environment


async def _run_and_fetch_history(client: Client) -> tuple[Greeting, bytes, str]:
    task_queue = f"codec-{uuid.uuid4()}"
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("pydantic", "pydantic_core")
    )
    async with Worker(
        client, task_queue=task_queue, workflows=[CodecTestWorkflow], activities=[greet, refuse],
        workflow_runner=runner,
    ):
        handle = await client.start_workflow(
            CodecTestWorkflow.run, CITIZEN, id=f"codec-test-{uuid.uuid4()}", task_queue=task_queue
        )
        result = await handle.result()
        history = await handle.fetch_history()
    return result, History(events=history.events).SerializeToString(), history.to_json()


def _client_with(env: WorkflowEnvironment, converter: DataConverter) -> Client:
    return Client(env.client.service_client, namespace=env.client.namespace, data_converter=converter)


async def test_workflow_history_holds_no_plaintext_cpr(env: WorkflowEnvironment) -> None:
    result, raw, as_json = await _run_and_fetch_history(env.client)
    assert result.text == f"Kære {NAME} ({CPR})"
    assert result.failure_seen == f"refused citizen {CPR}"  # the failure message survived the round trip
    assert CPR.encode() not in raw
    assert CPR not in as_json
    assert NAME.encode() not in raw
    assert b"binary/encrypted" in raw
    assert b"Encoded failure" in raw


async def test_control_without_the_codec_the_history_holds_the_cpr(env: WorkflowEnvironment) -> None:
    """Proves the check above can fail: the same workflow, unencrypted, leaves the CPR in the history."""
    plain = dataclasses.replace(pydantic_data_converter)
    result, raw, _ = await _run_and_fetch_history(_client_with(env, plain))
    assert result.failure_seen == f"refused citizen {CPR}"
    assert CPR.encode() in raw
    assert b"binary/encrypted" not in raw


async def test_a_worker_without_the_key_cannot_read_the_cases(env: WorkflowEnvironment) -> None:
    """Payloads written with the configured key are unreadable to a client holding another key."""
    handle = await env.client.start_workflow(
        CodecTestWorkflow.run, CITIZEN, id=f"codec-test-{uuid.uuid4()}", task_queue=f"idle-{uuid.uuid4()}"
    )
    stranger = _client_with(env, data_converter(KeyRing.generate("stranger")))
    history = await stranger.get_workflow_handle(handle.id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    with pytest.raises(UnknownKeyError, match="'test'"):
        await stranger.data_converter.decode(started.input.payloads, [Citizen])
    await handle.terminate()


# --- the codec server the Web UI and CLI call ------------------------------------------------------------


@pytest.fixture
def codec_url() -> Iterator[str]:
    server = make_server(KEYS, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _post(url: str, body: bytes, origin: str = "http://localhost:8233") -> tuple[int, dict[str, Any], Any]:
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Namespace": "default", "Origin": origin},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def _as_json(payloads: list[Payload]) -> bytes:
    return json_format.MessageToJson(Payloads(payloads=payloads)).encode()


async def test_codec_server_decodes_for_the_web_ui(codec_url: str) -> None:
    sealed = await _seal(EncryptionCodec(KEYS), CITIZEN)
    status, headers, body = await asyncio.to_thread(_post, f"{codec_url}/decode", _as_json([sealed]))
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:8233"
    opened = json_format.ParseDict(body, Payloads()).payloads
    assert pydantic_data_converter.payload_converter.from_payloads(opened, [Citizen]) == [CITIZEN]
    # encode is the inverse, and what it returns is sealed with the current key
    status, _, body = await asyncio.to_thread(_post, f"{codec_url}/encode", _as_json(list(opened)))
    assert status == 200
    [resealed] = json_format.ParseDict(body, Payloads()).payloads
    assert resealed.metadata[KEY_ID_METADATA] == KEYS.current_id.encode()


async def test_codec_server_refuses_foreign_origins_and_unknown_keys(codec_url: str) -> None:
    sealed = await _seal(EncryptionCodec(KEYS), CITIZEN)
    _, headers, _ = await asyncio.to_thread(_post, f"{codec_url}/decode", _as_json([sealed]), "http://evil.test")
    assert "Access-Control-Allow-Origin" not in headers
    foreign = await _seal(EncryptionCodec(KeyRing.generate("elsewhere")), CITIZEN)
    status, _, body = await asyncio.to_thread(_post, f"{codec_url}/decode", _as_json([foreign]))
    assert status == 400
    assert "'elsewhere'" in body["error"] and CPR not in body["error"]
    status, _, _ = await asyncio.to_thread(_post, f"{codec_url}/decode", b"not json")
    assert status == 400
