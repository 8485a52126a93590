"""MeMo messages (the Digital Post message model) for letters and NemSMS, built with python-serviceplatformen.

Everything here is a pure function of its input: the message UUID is derived from the idempotency key (a
retried activity produces the same `messageUUID`, so Digital Post deduplicates downstream too) and the
creation time is a parameter, never `datetime.now()`.

The library writes datetimes with `strftime('%Y-%m-%dT%H:%M:%SZ')` without converting them, so every
datetime is turned into UTC here before it goes into a dataclass.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from python_serviceplatformen.models import message as memo
from python_serviceplatformen.models.xml_util import dataclass_to_xml_string

from activities.models import Letter, Sms
from domain.letters import RenderedText

MEMO_UUID_NAMESPACE = uuid.UUID("6f1c3a52-8e0b-5d7e-9a44-2b7f0c1d9e35")
"""Fixed namespace for `uuid5(namespace, idempotency_key)`: never change it, or retries get new UUIDs."""

NEMSMS_MAX_CHARS = 150
MEMO_LABEL_MAX = 150

_FILENAMES = {"hearing": "partshoering.txt", "decision": "afgoerelse.txt", "reassessment": "genvurdering.txt"}


@dataclass(frozen=True)
class MemoSender:
    """The municipality as MeMo sender, and the label of the case system that owns `CaseID`."""

    sender_id: str = "12345678"
    id_type: Literal["MyndighedsID", "CVR"] = "MyndighedsID"
    label: str = "Københavns Kommune"
    case_system: str = "Jobcenter K-kassen"


def message_uuid(idempotency_key: str) -> str:
    """The MeMo `messageUUID` for an idempotency key: stable across retries and workers."""
    return str(uuid.uuid5(MEMO_UUID_NAMESPACE, idempotency_key))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("MeMo datetimes must be timezone-aware")
    return moment.astimezone(UTC)


def _sender(sender: MemoSender) -> Any:
    return memo.Sender(senderID=sender.sender_id, idType=sender.id_type, label=sender.label)


def digital_post_message(
    *,
    idempotency_key: str,
    label: str,
    cpr: str,
    name: str,
    case_id: str,
    text: str,
    filename: str,
    created_at: datetime,
    sender: MemoSender,
    release_on: date | None = None,
    reply: bool = False,
    reply_by: datetime | None = None,
    legal_notification: bool = False,
) -> Any:
    """A DIGITALPOST message with the letter as its main document.

    The document is the letter as UTF-8 plain text (`text/plain`, base64); production would render a PDF
    (`application/pdf`) from the same text, which is what citizens' mailboxes display best.
    """
    content = base64.b64encode(text.encode("utf-8")).decode("ascii")
    header = memo.MessageHeader(
        messageType="DIGITALPOST",
        messageUUID=message_uuid(idempotency_key),
        label=label[:MEMO_LABEL_MAX],
        reply=reply,
        replyByDateTime=_utc(reply_by) if reply_by is not None else None,
        doNotDeliverUntilDate=release_on,
        mandatory=False,
        legalNotification=legal_notification,
        sender=_sender(sender),
        recipient=memo.Recipient(recipientID=cpr, idType="CPR", label=name),
        contentData=memo.ContentData(
            CPR_data=memo.CPRdata(cprNumber=cpr, name=name),
            caseID=memo.CaseID(caseID=case_id, caseSystem=sender.case_system),
        ),
    )
    body = memo.MessageBody(
        createdDateTime=_utc(created_at),
        mainDocument=memo.MainDocument(
            label=label[:MEMO_LABEL_MAX],
            files=(
                memo.File(encodingFormat="text/plain", filename=filename, language="da", content=content),
            ),
        ),
    )
    return memo.Message(messageHeader=header, messageBody=body)


def letter_message(letter: Letter, rendered: RenderedText, sender: MemoSender, created_at: datetime) -> Any:
    """The MeMo message for a letter to the citizen's Digital Post.

    Hearing letters are answerable until the deadline ends (`reply`, `replyByDateTime`); decision letters
    are answerable without a deadline, because the complaint guidance says the citizen may complain by
    answering in Digital Post. Both are marked `legalNotification` (they have legal effect); `mandatory`
    stays false. `doNotDeliverUntilDate` holds the letter back to its working day.
    """
    if letter.to != "citizen":
        raise ValueError("Digital Post goes to the citizen; representatives get copies by post or e-mail")
    reply_by = letter.deadline_ends_at if letter.kind == "hearing" else None
    if letter.kind == "hearing" and reply_by is None:
        raise ValueError("a hearing letter in Digital Post needs deadline_ends_at for replyByDateTime")
    return digital_post_message(
        idempotency_key=letter.idempotency_key,
        label=rendered.subject,
        cpr=letter.citizen.cpr,
        name=letter.citizen.name,
        case_id=letter.case.case_id,
        text=rendered.body,
        filename=_FILENAMES[letter.kind],
        created_at=created_at,
        sender=sender,
        release_on=letter.release_on,
        reply=True,
        reply_by=reply_by,
        legal_notification=True,
    )


def nemsms_message(sms: Sms, text: str, sender: MemoSender, label: str = "Besked fra jobcentret") -> Any:
    """A NEMSMS message: a MeMo header whose `notification` is the text (at most 150 characters)."""
    limit = min(sms.max_chars, NEMSMS_MAX_CHARS)
    if len(text) > limit:
        raise ValueError(f"NemSMS text is {len(text)} characters; at most {limit} are allowed")
    header = memo.MessageHeader(
        messageType="NEMSMS",
        messageUUID=message_uuid(sms.idempotency_key),
        label=label,
        notification=text,
        mandatory=False,
        legalNotification=False,
        sender=_sender(sender),
        recipient=memo.Recipient(recipientID=sms.citizen.cpr, idType="CPR"),
    )
    return memo.Message(messageHeader=header)


def to_xml(message: Any) -> str:
    """Serialize a MeMo message to an XML string (the library's own serializer)."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + str(dataclass_to_xml_string(message))
