"""The real activities against a real outbox, run by Temporal's ActivityEnvironment."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator, MutableMapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.case_activities import CaseActivities
from activities.channels import ChannelSettings, OutboxChannels, build_channels
from activities.memo import message_uuid
from activities.models import (
    Alarm,
    Email,
    InboundCheck,
    Letter,
    PaymentNotice,
    Sms,
    TaskCancellation,
    TaskEscalation,
    TaskNotice,
)
from activities.outbox import Outbox
from domain.events import Citizen, Representative, TaskKind
from tests.activity_builders import case_ref, hearing_letter

CPH = ZoneInfo("Europe/Copenhagen")
CPR = "0101901234"
NAME = "Jens Hansen"
ADDRESS = "Nørrebrogade 1, 2200 København N"
PHONE = "+4512345678"
EMAIL = "jens@example.dk"
PERSONAL = (CPR, NAME, "Hansen", ADDRESS, PHONE, EMAIL, "Anna Berg", "anna@example.dk")
NS = {"memo": "https://DigitalPost.dk/MeMo-1"}
WF = "missed-meeting-M-1"
SCHEDULED = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)


def citizen(**changes: Any) -> Citizen:
    data: dict[str, Any] = {
        "cpr": CPR,
        "name": NAME,
        "address": ADDRESS,
        "readiness": "aktivitetsparat",
        "digital_post": "never_logged_in",
        "nemsms": True,
        "phone": PHONE,
        "email": EMAIL,
        "guidance_given_on": date(2025, 12, 1),
        "representatives": [{"role": "mentor", "name": "Anna Berg", "email": "anna@example.dk"}],
    }
    data.update(changes)
    return Citizen.model_validate(data)


CASE = case_ref()


def letter(channel: str = "digital_post", **changes: Any) -> Letter:
    return hearing_letter(citizen(), channel, **changes)


def sms(number: int = 1, **changes: Any) -> Sms:
    data: dict[str, Any] = {
        "idempotency_key": f"{WF}/sms/{number}",
        "case": CASE,
        "citizen": citizen(),
        "number": number,
        "release_on": date(2026, 3, 13),
    }
    data.update(changes)
    return Sms.model_validate(data)


def task(kind: TaskKind = TaskKind.phone_call) -> TaskNotice:
    return TaskNotice(
        idempotency_key=f"{WF}/task/1/{kind.value}",
        case=CASE,
        kind=kind,
        opened_at=datetime(2026, 3, 12, 8, 0, tzinfo=CPH),
        summary="Kontaktforsøg indtil nu:\n- ingen",
    )


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "outbox.sqlite")


@pytest.fixture
def acts(outbox: Outbox) -> CaseActivities:
    return CaseActivities(OutboxChannels(outbox))


@pytest.fixture
def env() -> ActivityEnvironment:
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(ActivityEnvironment.default_info(), scheduled_time=SCHEDULED)
    return environment


@pytest.fixture
def logs() -> Iterator[list[MutableMapping[str, Any]]]:
    with structlog.testing.capture_logs() as captured:
        yield captured


async def run_everything(env: ActivityEnvironment, acts: CaseActivities) -> None:
    """One of each kind (the letters in every channel)."""
    rep = Representative(role="mentor", name="Anna Berg", email="anna@example.dk")
    await env.run(acts.send_letter, letter("digital_post"))
    await env.run(acts.send_letter, letter("physical_post", digital_post_guidance=True))
    await env.run(
        acts.send_letter,
        letter("email", idempotency_key=f"{WF}/hearing_letter/mentor/email", to="mentor", representative=rep),
    )
    await env.run(
        acts.send_letter,
        letter(
            "caseworker",
            idempotency_key=f"{WF}/hearing_letter/mentor/caseworker",
            to="mentor",
            representative=Representative(role="mentor", name="Anna Berg"),
        ),
    )
    await env.run(
        acts.send_letter,
        letter(
            idempotency_key=f"{WF}/decision_letter/citizen/digital_post",
            kind="decision",
            decision="sanction",
            deduction_from=date(2026, 3, 2),
            contact_log=["12. marts 2026: opkald, intet svar"],
            explanation="Jeg var syg",
        ),
    )
    await env.run(
        acts.send_letter,
        letter(idempotency_key=f"{WF}/reassessment_letter/1", kind="reassessment", decision="annul"),
    )
    await env.run(acts.send_sms, sms())
    await env.run(
        acts.send_email, Email(idempotency_key=f"{WF}/email/1", case=CASE, citizen=citizen(), number=1)
    )
    await env.run(acts.open_task, task())
    await env.run(
        acts.cancel_task,
        TaskCancellation(
            idempotency_key=f"{WF}/cancel/1",
            task_key=f"{WF}/task/1/phone_call",
            case=CASE,
            reason="contact made",
        ),
    )
    await env.run(
        acts.escalate_task,
        TaskEscalation(
            idempotency_key=f"{WF}/task/1/phone_call/escalation/2",
            task_key=f"{WF}/task/1/phone_call",
            case=CASE,
            kind=TaskKind.phone_call,
            to="team_lead",
            assignee="kw-ab",
            due_at=datetime(2026, 3, 13, 9, tzinfo=CPH),
        ),
    )
    await env.run(
        acts.notify_payments,
        PaymentNotice(
            idempotency_key=f"{WF}/payment/start",
            case=CASE,
            kind="deduction_start",
            from_day=date(2026, 3, 2),
        ),
    )
    await env.run(
        acts.raise_alarm,
        Alarm(idempotency_key=f"{WF}/alarm", case=CASE, limit=date(2026, 6, 30), stage="contacting"),
    )
    await env.run(
        acts.check_inbound_contact, InboundCheck(case=CASE, since=datetime(2026, 3, 12, tzinfo=CPH))
    )


async def test_each_kind_is_stored_once(
    env: ActivityEnvironment, acts: CaseActivities, outbox: Outbox
) -> None:
    await run_everything(env, acts)
    kinds = [(r.kind, r.channel, r.recipient) for r in outbox.items()]
    assert kinds == [
        ("hearing_letter", "digital_post", "citizen"),
        ("hearing_letter", "physical_post", "citizen"),
        ("hearing_letter", "email", "mentor"),
        ("hearing_letter", "caseworker", "mentor"),
        ("decision_letter", "digital_post", "citizen"),
        ("reassessment_letter", "digital_post", "citizen"),
        ("sms", "nemsms", "citizen"),
        ("email", "email", "citizen"),
        ("task", "caseworker", "caseworker"),
        ("task_cancellation", "caseworker", "caseworker"),
        ("task_escalation", "caseworker", "team_lead"),
        ("payment", "payments", "payments"),
        ("alarm", "operator", "operator"),
    ]
    for rec in outbox.items():
        assert rec.workflow_id == WF and rec.meeting_id == "M-1" and rec.case_id == "K-2026-0001"
        assert rec.message_id == message_uuid(rec.idempotency_key)
        assert rec.created_at == SCHEDULED
        assert rec.body_text.strip()


async def test_a_repeated_key_is_a_duplicate_and_stores_nothing(
    env: ActivityEnvironment, acts: CaseActivities, outbox: Outbox
) -> None:
    first = await env.run(acts.send_letter, letter())
    again = await env.run(acts.send_letter, letter())
    assert not first.duplicate
    assert again.duplicate
    assert again.message_id == first.message_id and again.stored_at == first.stored_at
    assert outbox.count() == 1
    first_task = await env.run(acts.open_task, task())
    again_task = await env.run(acts.open_task, task())
    assert (first_task.duplicate, again_task.duplicate) == (False, True)
    assert outbox.count(kind="task") == 1


async def test_digital_post_letter_carries_its_memo(
    env: ActivityEnvironment, acts: CaseActivities, outbox: Outbox
) -> None:
    receipt = await env.run(acts.send_letter, letter())
    assert receipt.channel == "digital_post"
    rec = outbox.get(receipt.idempotency_key)
    assert rec is not None and rec.memo_xml is not None
    root = ElementTree.fromstring(rec.memo_xml.encode("utf-8"))
    header = root.find("memo:MessageHeader", NS)
    assert header is not None
    assert header.findtext("memo:messageUUID", namespaces=NS) == receipt.message_id
    assert header.findtext("memo:reply", namespaces=NS) == "true"
    assert header.findtext("memo:replyByDateTime", namespaces=NS) == "2026-03-11T23:00:00Z"
    assert header.findtext("memo:doNotDeliverUntilDate", namespaces=NS) == "2026-03-03"
    assert header.findtext("memo:ContentData/memo:CaseID/memo:caseID", namespaces=NS) == "K-2026-0001"
    assert header.findtext("memo:Recipient/memo:recipientID", namespaces=NS) == CPR
    created = root.findtext("memo:MessageBody/memo:createdDateTime", namespaces=NS)
    assert created == "2026-03-03T07:00:00Z"  # the activity's scheduled time, shared by retries
    content = root.findtext("memo:MessageBody/memo:MainDocument/memo:File/memo:content", namespaces=NS)
    assert content is not None and base64.b64decode(content).decode("utf-8") == rec.body_text


async def test_paper_letter_for_never_logged_in_has_digital_post_guidance(
    env: ActivityEnvironment, acts: CaseActivities, outbox: Outbox
) -> None:
    receipt = await env.run(acts.send_letter, letter("physical_post", digital_post_guidance=True))
    rec = outbox.get(receipt.idempotency_key)
    assert rec is not None
    assert rec.memo_xml is None
    assert "Om Digital Post" in rec.body_text and "MitID" in rec.body_text
    assert f"{NAME}\n{ADDRESS}" in rec.body_text
    assert rec.release_on == date(2026, 3, 3)
    assert rec.payload["digital_post_guidance"] is True


async def test_representative_copies_by_email_and_by_hand(
    env: ActivityEnvironment, acts: CaseActivities, outbox: Outbox
) -> None:
    rep = Representative(role="mentor", name="Anna Berg", email="anna@example.dk")
    mailed = await env.run(
        acts.send_letter, letter("email", idempotency_key="k/mail", to="mentor", representative=rep)
    )
    by_hand = await env.run(
        acts.send_letter,
        letter(
            "caseworker",
            idempotency_key="k/hand",
            to="mentor",
            representative=Representative(role="mentor", name="Anna Berg"),
        ),
    )
    mail = outbox.get(mailed.idempotency_key)
    hand = outbox.get(by_hand.idempotency_key)
    assert mail is not None and hand is not None
    assert mail.payload["email_to"] == "anna@example.dk"
    assert "KOPI TIL DIG SOM MENTOR" in mail.body_text
    assert hand.subject.startswith("Videresend kopi til mentor")
    with pytest.raises(ApplicationError) as err:
        await env.run(
            acts.send_letter,
            letter(
                "email",
                idempotency_key="k/nomail",
                to="mentor",
                representative=Representative(role="mentor", name="X"),
            ),
        )
    assert err.value.non_retryable


async def test_sms_is_short_and_has_its_memo(
    env: ActivityEnvironment, acts: CaseActivities, outbox: Outbox
) -> None:
    for number in (1, 2, 3):
        receipt = await env.run(acts.send_sms, sms(number))
        rec = outbox.get(receipt.idempotency_key)
        assert rec is not None and rec.memo_xml is not None
        assert len(rec.body_text) <= 150
        root = ElementTree.fromstring(rec.memo_xml.encode("utf-8"))
        assert root.findtext("memo:MessageHeader/memo:messageType", namespaces=NS) == "NEMSMS"
        assert root.findtext("memo:MessageHeader/memo:notification", namespaces=NS) == rec.body_text
        assert NAME not in rec.body_text and CPR not in rec.body_text
    short = await env.run(acts.send_sms, sms(4, max_chars=60))
    rec = outbox.get(short.idempotency_key)
    assert rec is not None and len(rec.body_text) <= 60


async def test_invalid_input_fails_without_retry(env: ActivityEnvironment, acts: CaseActivities) -> None:
    with pytest.raises(ApplicationError) as no_deadline:
        await env.run(acts.send_letter, letter(deadline=None))
    assert no_deadline.value.non_retryable and no_deadline.value.type == "InvalidActivityInput"
    with pytest.raises(ApplicationError) as not_registered:
        await env.run(acts.send_sms, sms(citizen=citizen(nemsms=False)))
    assert not_registered.value.non_retryable
    assert CPR not in str(not_registered.value)


async def test_inbound_check_reads_recorded_contacts(
    env: ActivityEnvironment, acts: CaseActivities, outbox: Outbox
) -> None:
    check = InboundCheck(case=CASE, since=datetime(2026, 3, 12, 0, 0, tzinfo=CPH))
    assert (await env.run(acts.check_inbound_contact, check)).contact is False
    outbox.record_inbound("M-1", datetime(2026, 3, 11, 12, 0, tzinfo=CPH), "phone")  # before `since`
    outbox.record_inbound("M-9", datetime(2026, 3, 13, 12, 0, tzinfo=CPH), "phone")  # another meeting
    assert (await env.run(acts.check_inbound_contact, check)).contact is False
    outbox.record_inbound(
        "M-1", datetime(2026, 3, 13, 9, 30, tzinfo=CPH), "supplier_report", "attended offer"
    )
    result = await env.run(acts.check_inbound_contact, check)
    assert result.contact and result.via == "supplier_report" and result.note == "attended offer"


async def test_logs_never_carry_personal_data(
    env: ActivityEnvironment, acts: CaseActivities, logs: list[MutableMapping[str, Any]]
) -> None:
    await run_everything(env, acts)
    await env.run(acts.send_letter, letter())  # a duplicate logs too
    delivered = [e for e in logs if e["event"] == "delivered"]
    assert len(delivered) == 14
    assert all({"workflow_id", "idempotency_key", "kind", "channel"} <= e.keys() for e in delivered)
    assert any(e["duplicate"] for e in delivered)
    rendered = repr(logs)
    for value in PERSONAL:
        assert value not in rendered


def test_all_activities_have_the_contract_names(acts: CaseActivities) -> None:
    names = {activity._Definition.must_from_callable(fn).name for fn in acts.all_activities()}
    assert names == {
        "send_letter",
        "send_sms",
        "send_email",
        "open_task",
        "cancel_task",
        "escalate_task",
        "check_inbound_contact",
        "notify_payments",
        "raise_alarm",
    }


def test_build_channels_defaults_to_the_outbox(tmp_path: Path) -> None:
    settings = ChannelSettings.from_env({"MISSED_MEETING_DATA_DIR": str(tmp_path / "data")})
    assert settings.channel == "outbox"
    channels = build_channels(settings)
    assert isinstance(channels, OutboxChannels)
    assert (tmp_path / "data" / "outbox.sqlite").exists()
    with pytest.raises(ValueError, match="MISSED_MEETING_CHANNEL"):
        ChannelSettings.from_env({"MISSED_MEETING_CHANNEL": "pigeon"})


def test_settings_configure_letterhead_and_sender(tmp_path: Path) -> None:
    settings = ChannelSettings.from_env(
        {
            "MISSED_MEETING_DATA_DIR": str(tmp_path),
            "MISSED_MEETING_PHONE": "33 33 33 33",
            "MISSED_MEETING_AUTHORITY": "Aarhus Kommune",
            "MISSED_MEETING_SENDER_ID": "55133018",
            "MISSED_MEETING_SENDER_ID_TYPE": "CVR",
        }
    )
    acts = CaseActivities.from_settings(settings)
    assert acts.letterhead.phone == "33 33 33 33"
    assert acts.memo_sender.label == "Aarhus Kommune" and acts.memo_sender.id_type == "CVR"


async def test_created_at_falls_back_to_now_outside_an_activity(outbox: Outbox) -> None:
    acts = CaseActivities(OutboxChannels(outbox))
    before = datetime.now(UTC)
    receipt = await acts.open_task(task())
    rec = outbox.get(receipt.idempotency_key)
    assert rec is not None and rec.created_at >= before
