"""The channel port: how activities hand over what they rendered, and how the embedded default differs from
production only in configuration.

`OutboxChannels` puts everything into the local SQLite outbox (the embedded default, for development,
simulation and tests). With `MISSED_MEETING_CHANNEL=sf1601`, Digital Post, NemSMS and physical post go to
Serviceplatformen's SF1601 (see `activities/sf1601.py`), with the outbox as the local audit copy; tasks,
e-mail, payment notices and alarms still go to the outbox, where the caseworker system, the mail relay and
the payment integration pick them up.

Configuration (environment):
    MISSED_MEETING_CHANNEL       outbox (default) | sf1601
    MISSED_MEETING_DATA_DIR      default ./data; the outbox is <data_dir>/outbox.sqlite
    MISSED_MEETING_AUTHORITY     sender name in letters and MeMo (default Københavns Kommune)
    MISSED_MEETING_UNIT          the unit that signs letters (default Jobcenter København, K-kassen)
    MISSED_MEETING_SHORT_NAME    the name in NemSMS (default Jobcenter København)
    MISSED_MEETING_PHONE         the jobcenter's phone number printed in letters and NemSMS
    MISSED_MEETING_VISIT_ADDRESS where citizens can come by
    MISSED_MEETING_SENDER_ID     MeMo senderID (default 12345678, the MeMo examples' placeholder)
    MISSED_MEETING_SENDER_ID_TYPE MyndighedsID (default) | CVR
    MISSED_MEETING_CASE_SYSTEM   MeMo ContentData/CaseID/caseSystem label
    plus the MISSED_MEETING_SF1601_* variables of `activities/sf1601.py` for the sf1601 channel.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from activities.memo import MemoSender
from activities.models import InboundCheckResult, Receipt
from activities.outbox import Outbox, OutboxItem, PutResult
from domain.letters import Letterhead

if TYPE_CHECKING:
    from activities.sf1601 import Sf1601Settings

ChannelName = Literal["outbox", "sf1601"]


class Channels(Protocol):
    """What the activities need from the outside world.

    Every delivery is idempotent by `item.idempotency_key`: a known key returns the first receipt with
    `duplicate=True` and sends nothing.
    """

    async def deliver_letter(self, item: OutboxItem, memo: Any | None = None) -> Receipt:
        """A letter by `item.channel`: digital_post (with its MeMo), physical_post, email, caseworker."""
        ...

    async def deliver_sms(self, item: OutboxItem, memo: Any) -> Receipt: ...

    async def deliver_email(self, item: OutboxItem) -> Receipt: ...

    async def deliver_task(self, item: OutboxItem) -> Receipt: ...

    async def deliver_task_cancellation(self, item: OutboxItem) -> Receipt: ...

    async def deliver_payment_notice(self, item: OutboxItem) -> Receipt: ...

    async def deliver_alarm(self, item: OutboxItem) -> Receipt: ...

    async def check_inbound(self, meeting_id: str, since: datetime) -> InboundCheckResult:
        """Did the citizen get in touch (or a supplier report arrive) for this meeting since `since`?"""
        ...


def receipt(result: PutResult) -> Receipt:
    rec = result.record
    return Receipt(
        idempotency_key=rec.idempotency_key,
        message_id=rec.message_id,
        channel=rec.channel,
        stored_at=rec.stored_at,
        duplicate=result.duplicate,
    )


class OutboxChannels:
    """Everything into the SQLite outbox: a person can read exactly what would have been sent."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def _store(self, item: OutboxItem) -> Receipt:
        return receipt(await asyncio.to_thread(self.outbox.put, item))

    async def deliver_letter(self, item: OutboxItem, memo: Any | None = None) -> Receipt:
        if item.channel == "digital_post" and item.memo_xml is None:
            raise ValueError("a Digital Post letter needs its MeMo XML")
        return await self._store(item)

    async def deliver_sms(self, item: OutboxItem, memo: Any) -> Receipt:
        return await self._store(item)

    async def deliver_email(self, item: OutboxItem) -> Receipt:
        return await self._store(item)

    async def deliver_task(self, item: OutboxItem) -> Receipt:
        return await self._store(item)

    async def deliver_task_cancellation(self, item: OutboxItem) -> Receipt:
        return await self._store(item)

    async def deliver_payment_notice(self, item: OutboxItem) -> Receipt:
        return await self._store(item)

    async def deliver_alarm(self, item: OutboxItem) -> Receipt:
        return await self._store(item)

    async def check_inbound(self, meeting_id: str, since: datetime) -> InboundCheckResult:
        """Reads `inbound_contacts`; production would ask the jobcenter's case system instead."""
        contacts = await asyncio.to_thread(self.outbox.inbound_since, meeting_id, since)
        if not contacts:
            return InboundCheckResult(contact=False)
        first = contacts[0]
        return InboundCheckResult(contact=True, via=first.via, note=first.note)


@dataclass(frozen=True)
class ChannelSettings:
    """Which channel, where the outbox lives, and how the municipality presents itself."""

    channel: ChannelName = "outbox"
    data_dir: Path = Path("data")
    letterhead: Letterhead = field(default_factory=Letterhead)
    memo_sender: MemoSender = field(default_factory=MemoSender)
    sf1601: Sf1601Settings | None = None

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ChannelSettings:
        env = os.environ if environ is None else environ
        channel = env.get("MISSED_MEETING_CHANNEL", "outbox").strip().lower() or "outbox"
        if channel not in ("outbox", "sf1601"):
            raise ValueError(f"MISSED_MEETING_CHANNEL must be 'outbox' or 'sf1601', not {channel!r}")
        head_defaults = Letterhead()
        letterhead = Letterhead(
            authority=env.get("MISSED_MEETING_AUTHORITY", head_defaults.authority),
            unit=env.get("MISSED_MEETING_UNIT", head_defaults.unit),
            short_name=env.get("MISSED_MEETING_SHORT_NAME", head_defaults.short_name),
            phone=env.get("MISSED_MEETING_PHONE") or None,
            visit_address=env.get("MISSED_MEETING_VISIT_ADDRESS") or None,
        )
        sender_defaults = MemoSender()
        id_type = env.get("MISSED_MEETING_SENDER_ID_TYPE", sender_defaults.id_type)
        if id_type not in ("MyndighedsID", "CVR"):
            raise ValueError("MISSED_MEETING_SENDER_ID_TYPE must be 'MyndighedsID' or 'CVR'")
        memo_sender = MemoSender(
            sender_id=env.get("MISSED_MEETING_SENDER_ID", sender_defaults.sender_id),
            id_type="CVR" if id_type == "CVR" else "MyndighedsID",
            label=letterhead.authority,
            case_system=env.get("MISSED_MEETING_CASE_SYSTEM", sender_defaults.case_system),
        )
        sf1601 = None
        if channel == "sf1601":
            from activities.sf1601 import Sf1601Settings

            sf1601 = Sf1601Settings.from_env(env)
        return cls(
            channel="sf1601" if channel == "sf1601" else "outbox",
            data_dir=Path(env.get("MISSED_MEETING_DATA_DIR", "data")),
            letterhead=letterhead,
            memo_sender=memo_sender,
            sf1601=sf1601,
        )


def build_channels(settings: ChannelSettings | None = None, *, access: Any | None = None) -> Channels:
    """The configured channels. `access` replaces the SF1601 `KombitAccess` (tests point it at a fake)."""
    settings = settings or ChannelSettings.from_env()
    outbox = Outbox(settings.outbox_path)
    if settings.channel == "outbox":
        return OutboxChannels(outbox)
    from activities.sf1601 import Sf1601Channels, Sf1601Client, build_access

    if settings.sf1601 is None:
        raise ValueError("the sf1601 channel needs Sf1601Settings (MISSED_MEETING_SF1601_* variables)")
    client = Sf1601Client(
        access if access is not None else build_access(settings.sf1601),
        outbox,
        physical_mail_type=settings.sf1601.physical_mail_type,
    )
    return Sf1601Channels(outbox, client)
