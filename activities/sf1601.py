"""Production delivery through Serviceplatformen SF1601 (Digital Post, NemSMS, physical post) with
python-serviceplatformen.

Only Digital Post, NemSMS and physical post go through SF1601; tasks, e-mail, payments and alarms stay in
the outbox (`Sf1601Channels` inherits them from `OutboxChannels`). Every message sent is also written to the
outbox as the local audit copy, under the same idempotency key: the row is reserved (`pending`) before the
request and marked `sent` with the transaction id after it, so a second call with the key sends nothing. A
crash between the two leaves `pending`, and the retry sends again with the same MeMo `messageUUID` (derived
from the key), which Digital Post deduplicates.

Errors: connection problems, timeouts, HTTP 5xx, 408, 425 and 429 raise a retryable `ApplicationError`
(`TransientDeliveryFailure`) and Temporal retries with backoff; any other HTTP 4xx (an invalid recipient, a
malformed message) raises a non-retryable `PermanentDeliveryFailure`. Messages never contain a CPR number:
response bodies are cut short and CPR-like digit runs are masked.

Configuration (environment):
    MISSED_MEETING_SF1601_CVR                 the municipality's CVR (token requests)
    MISSED_MEETING_SF1601_CERT                path to the OCES certificate, unified PEM
    MISSED_MEETING_SF1601_ENV                 test (default) | prod
    MISSED_MEETING_SF1601_BASE_URL            optional: override the SF1601 service base URL (tests, proxies);
                                              token acquisition still uses the library's fixed URLs
    MISSED_MEETING_SF1601_PHYSICAL_MAIL_TYPE  ForsendelseTypeIdentifikator from the print supplier
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import requests
from python_serviceplatformen import digital_post
from python_serviceplatformen.authentication import KombitAccess
from python_serviceplatformen.models import physical_mail
from temporalio.exceptions import ApplicationError

from activities.channels import OutboxChannels
from activities.models import Receipt
from activities.outbox import Outbox, OutboxItem

TRANSIENT = "TransientDeliveryFailure"
PERMANENT = "PermanentDeliveryFailure"
RETRYABLE_STATUS = frozenset({408, 425, 429})

_CPR_LIKE = re.compile(r"\d{6}-?\d{4}")


@dataclass(frozen=True)
class Sf1601Settings:
    cvr: str
    cert_path: str
    environment: Literal["test", "prod"] = "test"
    base_url: str | None = None
    physical_mail_type: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Sf1601Settings:
        env = os.environ if environ is None else environ
        missing = [
            name for name in ("MISSED_MEETING_SF1601_CVR", "MISSED_MEETING_SF1601_CERT") if not env.get(name)
        ]
        if missing:
            raise ValueError(f"the sf1601 channel needs {', '.join(missing)}")
        which = env.get("MISSED_MEETING_SF1601_ENV", "test").strip().lower()
        if which not in ("test", "prod"):
            raise ValueError("MISSED_MEETING_SF1601_ENV must be 'test' or 'prod'")
        mail_type = env.get("MISSED_MEETING_SF1601_PHYSICAL_MAIL_TYPE")
        if mail_type is not None and not mail_type.strip().isdigit():
            raise ValueError("MISSED_MEETING_SF1601_PHYSICAL_MAIL_TYPE must be a number")
        return cls(
            cvr=env["MISSED_MEETING_SF1601_CVR"],
            cert_path=env["MISSED_MEETING_SF1601_CERT"],
            environment="prod" if which == "prod" else "test",
            base_url=env.get("MISSED_MEETING_SF1601_BASE_URL") or None,
            physical_mail_type=int(mail_type) if mail_type else None,
        )


def build_access(settings: Sf1601Settings) -> KombitAccess:
    """The authenticated access object; the base URL override points the SF1601 calls elsewhere."""
    access = KombitAccess(settings.cvr, settings.cert_path, test=settings.environment == "test")
    if settings.base_url:
        access.environment = settings.base_url
    return access


def _safe_snippet(text: str, cpr: str | None, limit: int = 200) -> str:
    """A short, single-line excerpt of a response body with CPR numbers masked."""
    if cpr:
        text = text.replace(cpr, "[cpr]")
    text = _CPR_LIKE.sub("[cpr]", text)
    return " ".join(text.split())[:limit]


def classify(exc: Exception, what: str, cpr: str | None) -> ApplicationError:
    """Turn a `requests` failure into a retryable or a permanent `ApplicationError` without personal data."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        status = exc.response.status_code
        detail = _safe_snippet(exc.response.text or "", cpr)
        message = f"SF1601 answered HTTP {status} for {what}" + (f": {detail}" if detail else "")
        if status >= 500 or status in RETRYABLE_STATUS:
            return ApplicationError(message, type=TRANSIENT)
        return ApplicationError(message, type=PERMANENT, non_retryable=True)
    if isinstance(exc, requests.Timeout):
        return ApplicationError(f"SF1601 timed out for {what}", type=TRANSIENT)
    if isinstance(exc, requests.ConnectionError):
        return ApplicationError(f"SF1601 could not be reached for {what}", type=TRANSIENT)
    return ApplicationError(f"SF1601 request failed for {what}: {type(exc).__name__}", type=TRANSIENT)


class Sf1601Client:
    """Sends through SF1601 and keeps the outbox audit copy; blocking `requests` calls run in a thread."""

    def __init__(self, access: KombitAccess, outbox: Outbox, physical_mail_type: int | None = None) -> None:
        self.access = access
        self.outbox = outbox
        self.physical_mail_type = physical_mail_type

    async def _deliver(self, item: OutboxItem, what: str, cpr: str | None, send: Any, *args: Any) -> Receipt:
        key = item.idempotency_key
        reserved = await asyncio.to_thread(self.outbox.put, item, "pending")
        record = reserved.record
        if reserved.duplicate and record.status in ("sent", "stored"):
            return Receipt(
                idempotency_key=record.idempotency_key,
                message_id=record.message_id,
                channel=record.channel,
                stored_at=record.stored_at,
                duplicate=True,
            )
        try:
            transaction_id = await asyncio.to_thread(send, *args)
        except requests.RequestException as exc:
            error = classify(exc, what, cpr)
            if error.non_retryable:
                await asyncio.to_thread(self.outbox.set_status, key, "failed", None, error.message)
            raise error from None
        await asyncio.to_thread(self.outbox.set_status, key, "sent", str(transaction_id), None)
        return Receipt(
            idempotency_key=record.idempotency_key,
            message_id=record.message_id,
            channel=record.channel,
            stored_at=record.stored_at,
            duplicate=False,
        )

    async def send_memo(
        self, item: OutboxItem, message: Any, service: Literal["Digital Post", "NemSMS"]
    ) -> Receipt:
        """Digital Post or NemSMS: the MeMo message in a `kombi_request` to KombiPostAfsend."""
        cpr = str(message.messageHeader.recipient.recipientID)
        what = f"{service} {item.kind} ({item.idempotency_key})"
        return await self._deliver(item, what, cpr, digital_post.send_message, service, message, self.access)

    async def send_physical(self, item: OutboxItem) -> Receipt:
        """A paper letter (Fjernprint). The letter text carries the address for a window envelope.

        The library sends the document as given; production renders the letter as PDF (`file_format="pdf"`).
        The shipment id is the letter's message id (derived from the idempotency key), so the print supplier
        can recognise a repeated shipment.
        """
        if self.physical_mail_type is None:
            raise ApplicationError(
                "physical post through SF1601 needs MISSED_MEETING_SF1601_PHYSICAL_MAIL_TYPE",
                type="ConfigurationError",
                non_retryable=True,
            )
        shipment = physical_mail.create_physical_mail(
            self.physical_mail_type, item.body_text.encode("utf-8"), file_format="txt"
        )
        shipment.afsendelse_identifikator = physical_mail.AfsendelseIdentifikator(value=item.message_id)
        what = f"physical post {item.kind} ({item.idempotency_key})"
        return await self._deliver(item, what, None, digital_post.send_physical_mail, shipment, self.access)


class Sf1601Channels(OutboxChannels):
    """Digital Post, NemSMS and physical post through SF1601; everything else into the outbox (inherited)."""

    def __init__(self, outbox: Outbox, client: Sf1601Client) -> None:
        super().__init__(outbox)
        self.client = client

    async def deliver_letter(self, item: OutboxItem, memo: Any | None = None) -> Receipt:
        if item.channel == "digital_post":
            if memo is None:
                raise ValueError("a Digital Post letter needs its MeMo message")
            return await self.client.send_memo(item, memo, "Digital Post")
        if item.channel == "physical_post":
            return await self.client.send_physical(item)
        return await super().deliver_letter(item, memo)

    async def deliver_sms(self, item: OutboxItem, memo: Any) -> Receipt:
        return await self.client.send_memo(item, memo, "NemSMS")
