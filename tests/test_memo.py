"""MeMo messages: the fields Digital Post acts on, deterministic given the input."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from activities import memo
from activities.models import Letter, Sms
from domain.events import Citizen, Representative
from domain.letters import render_letter, sms_text
from tests.activity_builders import hearing_letter

CPH = ZoneInfo("Europe/Copenhagen")
CPR = "0101901234"
NS = {"memo": "https://DigitalPost.dk/MeMo-1", "grd": "https://data.gov.dk/model/core/"}
SENDER = memo.MemoSender(
    sender_id="64942212", id_type="CVR", label="Københavns Kommune", case_system="KK-Jobcenter"
)
CREATED = datetime(2026, 3, 3, 8, 0, tzinfo=CPH)


def citizen() -> Citizen:
    return Citizen(
        cpr=CPR,
        name="Jens Hansen",
        address="Nørrebrogade 1, 2200 København N",
        readiness="jobparat",
        digital_post="registered",
        nemsms=True,
    )


def letter(**changes: Any) -> Letter:
    return hearing_letter(citizen(), **changes)


def parse(xml: str) -> ElementTree.Element:
    return ElementTree.fromstring(xml.encode("utf-8"))


def text(root: ElementTree.Element, path: str) -> str | None:
    found = root.find(path, NS)
    return None if found is None else found.text


def test_message_uuid_is_a_stable_uuid_per_key() -> None:
    first = memo.message_uuid("wf/hearing_letter/citizen/digital_post")
    assert first == memo.message_uuid("wf/hearing_letter/citizen/digital_post")
    assert first != memo.message_uuid("wf/hearing_letter/citizen/physical_post")
    assert uuid.UUID(first).version == 5


def test_hearing_letter_memo_fields() -> None:
    the_letter = letter()
    rendered = render_letter(the_letter)
    xml = memo.to_xml(memo.letter_message(the_letter, rendered, SENDER, CREATED))
    root = parse(xml)
    assert root.tag == "{https://DigitalPost.dk/MeMo-1}Message"
    head = "memo:MessageHeader/"
    assert text(root, head + "memo:messageType") == "DIGITALPOST"
    assert text(root, head + "memo:messageUUID") == memo.message_uuid(the_letter.idempotency_key)
    assert text(root, head + "memo:label") == rendered.subject
    assert text(root, head + "memo:reply") == "true"
    # the deadline ends at midnight Copenhagen time = 23:00 UTC in March
    assert text(root, head + "memo:replyByDateTime") == "2026-03-11T23:00:00Z"
    assert text(root, head + "memo:doNotDeliverUntilDate") == "2026-03-03"
    assert text(root, head + "memo:legalNotification") == "true"
    assert text(root, head + "memo:Sender/memo:senderID") == "64942212"
    assert text(root, head + "memo:Sender/memo:idType") == "CVR"
    assert text(root, head + "memo:Sender/memo:label") == "Københavns Kommune"
    assert text(root, head + "memo:Recipient/memo:recipientID") == CPR
    assert text(root, head + "memo:Recipient/memo:idType") == "CPR"
    assert text(root, head + "memo:ContentData/memo:CaseID/memo:caseID") == "K-2026-0001"
    assert text(root, head + "memo:ContentData/memo:CaseID/memo:caseSystem") == "KK-Jobcenter"
    assert text(root, head + "memo:ContentData/grd:CPRdata/grd:cprNumber") == CPR
    body = "memo:MessageBody/"
    assert text(root, body + "memo:createdDateTime") == "2026-03-03T07:00:00Z"
    file = body + "memo:MainDocument/memo:File/"
    assert text(root, file + "memo:encodingFormat") == "text/plain"
    assert text(root, file + "memo:language") == "da"
    content = text(root, file + "memo:content")
    assert content is not None
    assert base64.b64decode(content).decode("utf-8") == rendered.body


def test_memo_is_deterministic_given_the_input() -> None:
    the_letter = letter()
    rendered = render_letter(the_letter)
    first = memo.to_xml(memo.letter_message(the_letter, rendered, SENDER, CREATED))
    second = memo.to_xml(memo.letter_message(the_letter, rendered, SENDER, CREATED))
    assert first == second
    later = memo.to_xml(memo.letter_message(the_letter, rendered, SENDER, datetime(2026, 3, 4, tzinfo=UTC)))
    assert later != first


def test_decision_letter_is_answerable_without_a_deadline() -> None:
    the_letter = letter(
        kind="decision",
        decision="sanction",
        deduction_from=date(2026, 3, 2),
        deadline=None,
        deadline_ends_at=None,
    )
    root = parse(memo.to_xml(memo.letter_message(the_letter, render_letter(the_letter), SENDER, CREATED)))
    assert text(root, "memo:MessageHeader/memo:reply") == "true"
    assert text(root, "memo:MessageHeader/memo:replyByDateTime") is None


def test_letter_memo_refuses_what_digital_post_cannot_carry() -> None:
    no_deadline = letter(deadline_ends_at=None)
    with pytest.raises(ValueError, match="deadline_ends_at"):
        memo.letter_message(no_deadline, render_letter(no_deadline), SENDER, CREATED)
    copy = letter(to="mentor", representative=Representative(role="mentor", name="Anna Berg"))
    with pytest.raises(ValueError, match="citizen"):
        memo.letter_message(copy, render_letter(copy), SENDER, CREATED)
    with pytest.raises(ValueError, match="timezone"):
        memo.letter_message(letter(), render_letter(letter()), SENDER, datetime(2026, 3, 3, 8, 0))


def test_nemsms_memo() -> None:
    sms = Sms(
        idempotency_key="missed-meeting-M-1/sms/1",
        case=letter().case,
        citizen=citizen(),
        number=1,
        release_on=date(2026, 3, 13),
    )
    body = sms_text(sms)
    root = parse(memo.to_xml(memo.nemsms_message(sms, body, SENDER)))
    assert text(root, "memo:MessageHeader/memo:messageType") == "NEMSMS"
    assert text(root, "memo:MessageHeader/memo:notification") == body
    assert text(root, "memo:MessageHeader/memo:messageUUID") == memo.message_uuid(sms.idempotency_key)
    assert text(root, "memo:MessageHeader/memo:Recipient/memo:recipientID") == CPR
    assert root.find("memo:MessageBody", NS) is None
    with pytest.raises(ValueError, match="at most 150"):
        memo.nemsms_message(sms, "x" * 151, SENDER)
    with pytest.raises(ValueError, match="at most 20"):
        memo.nemsms_message(sms.model_copy(update={"max_chars": 20}), "x" * 21, SENDER)
