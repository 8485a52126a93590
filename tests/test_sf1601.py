"""The SF1601 adapter against a local fake Serviceplatformen (stdlib HTTP server on 127.0.0.1)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.case_activities import CaseActivities
from activities.channels import ChannelSettings, OutboxChannels, build_channels
from activities.memo import message_uuid
from activities.models import Letter, Sms, TaskNotice
from activities.outbox import Outbox
from activities.sf1601 import PERMANENT, TRANSIENT, Sf1601Channels, Sf1601Settings, build_access
from domain.events import Citizen, TaskKind
from tests.activity_builders import case_ref, hearing_letter
from tests.fake_sf1601 import FakeServiceplatformen, StaticAccess, serve_fake

CPH = ZoneInfo("Europe/Copenhagen")
CPR = "0101901234"
NS = {"memo": "https://DigitalPost.dk/MeMo-1", "fp": "urn:oio:fjernprint:1.0.0"}
WF = "missed-meeting-M-1"


@pytest.fixture
def fake() -> Iterator[FakeServiceplatformen]:
    with serve_fake() as state:
        yield state


def parse(body: str) -> ElementTree.Element:
    """Parse a request body. python-serviceplatformen declares `encoding='utf8'`, a name expat does not know,
    while the bytes are UTF-8; drop the declaration and parse the UTF-8 bytes."""
    if body.startswith("<?xml"):
        body = body.split("?>", 1)[1]
    return ElementTree.fromstring(body.encode("utf-8"))


@pytest.fixture
def cert(tmp_path: Path) -> str:
    # requests checks that the client certificate file exists; plain HTTP never reads it
    path = tmp_path / "cert.pem"
    path.write_text("not a real certificate\n")
    return str(path)


def settings(tmp_path: Path, cert: str) -> ChannelSettings:
    return ChannelSettings(
        channel="sf1601",
        data_dir=tmp_path / "data",
        sf1601=Sf1601Settings(cvr="12345678", cert_path=cert, physical_mail_type=123),
    )


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "data" / "outbox.sqlite")


@pytest.fixture
def acts(fake: FakeServiceplatformen, tmp_path: Path, cert: str, outbox: Outbox) -> CaseActivities:
    channels = build_channels(settings(tmp_path, cert), access=StaticAccess(fake.url, cert))
    assert isinstance(channels, Sf1601Channels)
    return CaseActivities(channels)


CASE = case_ref()


def citizen(**changes: Any) -> Citizen:
    data: dict[str, Any] = {
        "cpr": CPR,
        "name": "Jens Hansen",
        "address": "Nørrebrogade 1, 2200 København N",
        "readiness": "jobparat",
        "digital_post": "registered",
        "nemsms": True,
    }
    data.update(changes)
    return Citizen.model_validate(data)


def letter(channel: str = "digital_post", **changes: Any) -> Letter:
    return hearing_letter(citizen(), channel, **changes)


async def test_digital_post_goes_as_a_kombi_request_with_the_memo(
    fake: FakeServiceplatformen, acts: CaseActivities, outbox: Outbox
) -> None:
    the_letter = letter()
    receipt = await ActivityEnvironment().run(acts.send_letter, the_letter)
    assert not receipt.duplicate
    assert len(fake.requests) == 1
    req = fake.requests[0]
    assert req.path == "/service/KombiPostAfsend_1/memos"
    assert req.headers["authorization"] == "Bearer test-token"
    assert req.headers["Content-Type"] == "application/xml"
    root = parse(req.body)
    assert root.tag == "kombi_request"
    assert root.findtext("KombiValgKode") == "Digital Post"
    header = root.find("memo:Message/memo:MessageHeader", NS)
    assert header is not None
    assert header.findtext("memo:messageType", namespaces=NS) == "DIGITALPOST"
    assert header.findtext("memo:messageUUID", namespaces=NS) == message_uuid(the_letter.idempotency_key)
    assert header.findtext("memo:reply", namespaces=NS) == "true"
    assert header.findtext("memo:replyByDateTime", namespaces=NS) == "2026-03-11T23:00:00Z"
    assert header.findtext("memo:ContentData/memo:CaseID/memo:caseID", namespaces=NS) == "K-2026-0001"
    assert header.findtext("memo:Recipient/memo:recipientID", namespaces=NS) == CPR
    # the audit copy: sent, with SF1601's transaction id
    rec = outbox.get(the_letter.idempotency_key)
    assert rec is not None and rec.status == "sent"
    assert rec.external_id == req.headers["X-TransaktionsId"]
    assert rec.memo_xml is not None and message_uuid(the_letter.idempotency_key) in rec.memo_xml


async def test_a_repeated_key_sends_one_request(fake: FakeServiceplatformen, acts: CaseActivities) -> None:
    env = ActivityEnvironment()
    first = await env.run(acts.send_letter, letter())
    second = await env.run(acts.send_letter, letter())
    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.message_id == first.message_id
    assert len(fake.requests) == 1


async def test_server_error_is_retryable_and_the_retry_sends(
    fake: FakeServiceplatformen, acts: CaseActivities, outbox: Outbox
) -> None:
    fake.script.append((500, "internal error"))
    env = ActivityEnvironment()
    with pytest.raises(ApplicationError) as err:
        await env.run(acts.send_letter, letter())
    assert not err.value.non_retryable
    assert err.value.type == TRANSIENT
    assert "500" in err.value.message
    rec = outbox.get(letter().idempotency_key)
    assert rec is not None and rec.status == "pending"
    # Temporal's retry: same key, the server is fine again
    receipt = await env.run(acts.send_letter, letter())
    assert not receipt.duplicate
    assert len(fake.requests) == 2
    assert fake.requests[0].body == fake.requests[1].body  # same messageUUID, downstream can dedupe
    rec = outbox.get(letter().idempotency_key)
    assert rec is not None and rec.status == "sent"


async def test_too_many_requests_is_retryable(fake: FakeServiceplatformen, acts: CaseActivities) -> None:
    fake.script.append((429, "slow down"))
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(acts.send_letter, letter())
    assert not err.value.non_retryable


async def test_client_error_is_permanent_and_names_no_cpr(
    fake: FakeServiceplatformen, acts: CaseActivities, outbox: Outbox
) -> None:
    fake.script.append((400, f"Invalid recipient: CPR {CPR} (also 010190-1234) is not registered"))
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(acts.send_letter, letter())
    assert err.value.non_retryable
    assert err.value.type == PERMANENT
    assert "400" in err.value.message and "Invalid recipient" in err.value.message
    assert CPR not in str(err.value) and "010190-1234" not in str(err.value)
    assert err.value.__cause__ is None
    rec = outbox.get(letter().idempotency_key)
    assert rec is not None and rec.status == "failed"
    assert rec.status_note is not None and CPR not in rec.status_note


async def test_unreachable_server_is_retryable(tmp_path: Path, cert: str, outbox: Outbox) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    channels = build_channels(
        settings(tmp_path, cert), access=StaticAccess(f"http://127.0.0.1:{port}/", cert)
    )
    acts = CaseActivities(channels)
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(acts.send_letter, letter())
    assert not err.value.non_retryable and err.value.type == TRANSIENT
    assert CPR not in str(err.value)


async def test_nemsms_goes_through_sf1601(fake: FakeServiceplatformen, acts: CaseActivities) -> None:
    sms = Sms(
        idempotency_key=f"{WF}/sms/1", case=CASE, citizen=citizen(), number=1, release_on=date(2026, 3, 13)
    )
    await ActivityEnvironment().run(acts.send_sms, sms)
    assert len(fake.requests) == 1
    root = parse(fake.requests[0].body)
    assert root.findtext("KombiValgKode") == "NemSMS"
    assert "København" in fake.requests[0].body  # sent as UTF-8
    notification = root.findtext("memo:Message/memo:MessageHeader/memo:notification", namespaces=NS)
    assert notification is not None and 0 < len(notification) <= 150


async def test_physical_post_goes_to_fjernprint(
    fake: FakeServiceplatformen, acts: CaseActivities, outbox: Outbox
) -> None:
    the_letter = letter("physical_post", citizen=citizen(digital_post="exempt"))
    receipt = await ActivityEnvironment().run(acts.send_letter, the_letter)
    assert len(fake.requests) == 1
    req = fake.requests[0]
    assert req.path == "/service/KombiPostAfsend_1/kombi"
    root = parse(req.body)
    assert root.tag == "kombi_request"
    assert root.findtext("KombiValgKode") == "Fysisk Post"
    shipment_id = root.findtext(
        "fp:ForsendelseISamling/fp:ForsendelseI/fp:AfsendelseIdentifikator", namespaces=NS
    )
    assert shipment_id == receipt.message_id == message_uuid(the_letter.idempotency_key)
    rec = outbox.get(the_letter.idempotency_key)
    assert rec is not None and rec.status == "sent" and rec.memo_xml is None


async def test_tasks_stay_in_the_outbox(
    fake: FakeServiceplatformen, acts: CaseActivities, outbox: Outbox
) -> None:
    notice = TaskNotice(
        idempotency_key=f"{WF}/task/1/phone_call",
        case=CASE,
        kind=TaskKind.phone_call,
        opened_at=datetime(2026, 3, 12, 8, 0, tzinfo=CPH),
        summary="-",
    )
    await ActivityEnvironment().run(acts.open_task, notice)
    assert fake.requests == []
    rec = outbox.get(notice.idempotency_key)
    assert rec is not None and rec.status == "stored"


def test_settings_from_env(tmp_path: Path, cert: str) -> None:
    env = {
        "MISSED_MEETING_CHANNEL": "sf1601",
        "MISSED_MEETING_DATA_DIR": str(tmp_path),
        "MISSED_MEETING_SF1601_CVR": "12345678",
        "MISSED_MEETING_SF1601_CERT": cert,
        "MISSED_MEETING_SF1601_ENV": "prod",
        "MISSED_MEETING_SF1601_BASE_URL": "http://127.0.0.1:9/",
        "MISSED_MEETING_SF1601_PHYSICAL_MAIL_TYPE": "42",
    }
    channel_settings = ChannelSettings.from_env(env)
    assert channel_settings.channel == "sf1601"
    sf = channel_settings.sf1601
    assert sf is not None and sf.environment == "prod" and sf.physical_mail_type == 42
    access = build_access(sf)
    assert access.environment == "http://127.0.0.1:9/" and access.test is False
    assert not isinstance(build_channels(ChannelSettings(data_dir=tmp_path)), Sf1601Channels)
    assert isinstance(build_channels(ChannelSettings(data_dir=tmp_path)), OutboxChannels)
    with pytest.raises(ValueError, match="MISSED_MEETING_SF1601_CERT"):
        Sf1601Settings.from_env({"MISSED_MEETING_SF1601_CVR": "12345678"})
    with pytest.raises(ValueError, match="ENV"):
        Sf1601Settings.from_env({**env, "MISSED_MEETING_SF1601_ENV": "staging"})
