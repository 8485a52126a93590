"""The case's activities: all I/O of a missed-meeting case, one pydantic model in and one out.

Each activity renders its text (domain/letters.py), builds MeMo where Digital Post or NemSMS needs it
(activities/memo.py) and hands the result to a `Channels` port. Idempotency is the channel's job, by the
input's `idempotency_key`; the content is a function of the input (the creation time is the activity's
first scheduling time, which retries share), so a retry renders the same message.

Log lines are bound to workflow id, idempotency key, kind and channel, and never carry CPR number, name,
address, phone number or e-mail address.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import memo as memo_mod
from activities import metrics
from activities.channels import Channels, ChannelSettings, build_channels
from activities.memo import MemoSender, message_uuid
from activities.models import (
    Alarm,
    CaseRef,
    Email,
    InboundCheck,
    InboundCheckResult,
    Letter,
    PaymentNotice,
    Receipt,
    Sms,
    TaskCancellation,
    TaskEscalation,
    TaskNotice,
)
from activities.outbox import OutboxItem, OutboxKind
from domain import letters
from domain.letters import Letterhead, RenderedText

INVALID_INPUT = "InvalidActivityInput"

_LETTER_KINDS: dict[str, OutboxKind] = {
    "hearing": "hearing_letter",
    "decision": "decision_letter",
    "reassessment": "reassessment_letter",
}


def _created_at() -> datetime:
    """When the activity was first scheduled (shared by its retries), or now outside an activity."""
    try:
        return activity.info().scheduled_time
    except RuntimeError:
        return datetime.now(UTC)


def _invalid(exc: ValueError) -> ApplicationError:
    """Bad input will not get better by retrying; the messages raised below hold no personal data."""
    return ApplicationError(str(exc), type=INVALID_INPUT, non_retryable=True)


class CaseActivities:
    """The activities, bound to a channel port. Register `all_activities()` with the worker."""

    def __init__(
        self,
        channels: Channels,
        *,
        letterhead: Letterhead | None = None,
        memo_sender: MemoSender | None = None,
        logger: Any | None = None,
    ) -> None:
        self.channels = channels
        self.letterhead = letterhead or Letterhead()
        self.memo_sender = memo_sender or MemoSender()
        self.log = logger if logger is not None else structlog.get_logger("missed_meeting.activities")

    @classmethod
    def from_settings(cls, settings: ChannelSettings | None = None) -> CaseActivities:
        """Channels, letterhead and MeMo sender from one configuration (default: the environment)."""
        settings = settings or ChannelSettings.from_env()
        return cls(build_channels(settings), letterhead=settings.letterhead, memo_sender=settings.memo_sender)

    def all_activities(self) -> list[Callable[..., Any]]:
        return [
            self.send_letter,
            self.send_sms,
            self.send_email,
            self.open_task,
            self.cancel_task,
            self.escalate_task,
            self.check_inbound_contact,
            self.notify_payments,
            self.raise_alarm,
        ]

    # -- helpers ---------------------------------------------------------------------------------------------
    def _item(
        self,
        *,
        key: str,
        case: CaseRef,
        kind: OutboxKind,
        channel: str,
        recipient: str,
        text: RenderedText,
        payload: dict[str, Any],
        release_on: Any = None,
        memo_xml: str | None = None,
    ) -> OutboxItem:
        return OutboxItem(
            idempotency_key=key,
            message_id=message_uuid(key),
            workflow_id=case.workflow_id,
            meeting_id=case.meeting_id,
            case_id=case.case_id,
            kind=kind,
            channel=channel,
            recipient=recipient,
            created_at=_created_at(),
            subject=text.subject,
            body_text=text.body,
            release_on=release_on,
            memo_xml=memo_xml,
            payload=payload,
        )

    def _logger(self, item: OutboxItem) -> Any:
        return self.log.bind(
            workflow_id=item.workflow_id,
            idempotency_key=item.idempotency_key,
            kind=item.kind,
            channel=item.channel,
        )

    async def _deliver(self, item: OutboxItem, deliver: Callable[..., Any], *args: Any) -> Receipt:
        log = self._logger(item)
        try:
            result: Receipt = await deliver(item, *args)
        except ApplicationError as exc:
            log.warning("delivery_failed", error_type=exc.type, retryable=not exc.non_retryable)
            raise
        log.info(
            "delivered", message_id=result.message_id, duplicate=result.duplicate, recipient=item.recipient
        )
        return result

    # -- letters ---------------------------------------------------------------------------------------------
    @activity.defn
    async def send_letter(self, letter: Letter) -> Receipt:
        """A hearing, decision or reassessment letter (or a representative's copy) by its channel."""
        try:
            rendered = letters.render_letter(letter, self.letterhead)
            message = None
            if letter.channel == "digital_post":
                message = memo_mod.letter_message(letter, rendered, self.memo_sender, _created_at())
            elif letter.channel == "caseworker":
                rendered = letters.caseworker_forwarding_note(letter, rendered)
            elif letter.channel == "email" and not (letter.representative and letter.representative.email):
                raise ValueError("an e-mail copy needs a representative with an e-mail address")
        except ValueError as exc:
            raise _invalid(exc) from None
        payload: dict[str, Any] = {
            "letter_kind": letter.kind,
            "to": letter.to,
            "deadline": letter.deadline.isoformat() if letter.deadline else None,
            "deadline_ends_at": letter.deadline_ends_at.isoformat() if letter.deadline_ends_at else None,
            "digital_post_guidance": letter.digital_post_guidance,
            "decision": letter.decision,
            "deduction_from": letter.deduction_from.isoformat() if letter.deduction_from else None,
            "deduction_to": letter.deduction_to.isoformat() if letter.deduction_to else None,
        }
        if letter.channel == "email" and letter.representative is not None:
            payload["email_to"] = letter.representative.email
        item = self._item(
            key=letter.idempotency_key,
            case=letter.case,
            kind=_LETTER_KINDS[letter.kind],
            channel=letter.channel,
            recipient=letter.to,
            text=rendered,
            payload=payload,
            release_on=letter.release_on,
            memo_xml=memo_mod.to_xml(message) if message is not None else None,
        )
        receipt = await self._deliver(item, self.channels.deliver_letter, message)
        metrics.letter_sent(letter, receipt)
        return receipt

    # -- reaching the citizen --------------------------------------------------------------------------------
    @activity.defn
    async def send_sms(self, sms: Sms) -> Receipt:
        """A NemSMS asking the citizen to call (only for citizens registered for NemSMS)."""
        try:
            if not sms.citizen.nemsms:
                raise ValueError("the citizen is not registered for NemSMS")
            text = letters.sms_text(sms, self.letterhead)
            message = memo_mod.nemsms_message(sms, text, self.memo_sender)
        except ValueError as exc:
            raise _invalid(exc) from None
        item = self._item(
            key=sms.idempotency_key,
            case=sms.case,
            kind="sms",
            channel="nemsms",
            recipient="citizen",
            text=RenderedText(subject="NemSMS deadline reminder" if sms.deadline_reminder else f"NemSMS {sms.number}",
                              body=text),
            payload={"number": sms.number, "chars": len(text)},
            release_on=sms.release_on,
            memo_xml=memo_mod.to_xml(message),
        )
        receipt = await self._deliver(item, self.channels.deliver_sms, message)
        metrics.contact_message_sent("nemsms", receipt)
        return receipt

    @activity.defn
    async def send_email(self, email: Email) -> Receipt:
        """An e-mail asking the citizen to get in touch; it names no case details (e-mail is not secure)."""
        if not email.citizen.email:
            raise _invalid(ValueError("the citizen has no e-mail address on file"))
        item = self._item(
            key=email.idempotency_key,
            case=email.case,
            kind="email",
            channel="email",
            recipient="citizen",
            text=letters.email_text(email, self.letterhead),
            payload={"number": email.number, "email_to": email.citizen.email},
        )
        receipt = await self._deliver(item, self.channels.deliver_email)
        metrics.contact_message_sent("email", receipt)
        return receipt

    # -- caseworker tasks ------------------------------------------------------------------------------------
    @activity.defn
    async def open_task(self, task: TaskNotice) -> Receipt:
        """A task for a caseworker (call, representative, home visit, decision, reassessment)."""
        item = self._item(
            key=task.idempotency_key,
            case=task.case,
            kind="task",
            channel="caseworker",
            recipient="caseworker",
            text=letters.task_text(task),
            payload={
                "task": task.kind.value,
                "attempt": task.attempt,
                "role": task.role,
                "opened_at": task.opened_at.isoformat(),
                "due_at": task.due_at.isoformat() if task.due_at else None,
            },
        )
        receipt = await self._deliver(item, self.channels.deliver_task)
        metrics.task_opened(task, receipt)
        return receipt

    @activity.defn
    async def cancel_task(self, cancel: TaskCancellation) -> Receipt:
        """Withdraw a task (contact was made); the caseworker system matches it by `task_key`."""
        item = self._item(
            key=cancel.idempotency_key,
            case=cancel.case,
            kind="task_cancellation",
            channel="caseworker",
            recipient="caseworker",
            text=letters.task_cancellation_text(cancel),
            payload={"task_key": cancel.task_key, "reason": cancel.reason},
        )
        return await self._deliver(item, self.channels.deliver_task_cancellation)

    @activity.defn
    async def escalate_task(self, esc: TaskEscalation) -> Receipt:
        """An overdue task: remind the assignee (or the team's queue), or tell the team lead."""
        item = self._item(
            key=esc.idempotency_key,
            case=esc.case,
            kind="task_escalation",
            channel="caseworker",
            recipient="team_lead" if esc.to == "team_lead" else "caseworker",
            text=letters.task_escalation_text(esc),
            payload={"task_key": esc.task_key, "task": esc.kind.value, "to": esc.to, "assignee": esc.assignee,
                     "due_at": esc.due_at.isoformat()},
        )
        receipt = await self._deliver(item, self.channels.deliver_task)
        metrics.task_escalated(esc, receipt)
        return receipt

    @activity.defn
    async def check_inbound_contact(self, check: InboundCheck) -> InboundCheckResult:
        """Ladder rung 1: did the citizen call, turn up, or does the case hold new information?"""
        result = await self.channels.check_inbound(check.case.meeting_id, check.since)
        self.log.info(
            "inbound_checked", workflow_id=check.case.workflow_id, contact=result.contact, via=result.via
        )
        return result

    # -- payments and alarms ---------------------------------------------------------------------------------
    @activity.defn
    async def notify_payments(self, notice: PaymentNotice) -> Receipt:
        """Tell the payment system to start, end or reverse a deduction (LAS § 36/§ 37)."""
        item = self._item(
            key=notice.idempotency_key,
            case=notice.case,
            kind="payment",
            channel="payments",
            recipient="payments",
            text=letters.payment_text(notice),
            payload={
                "action": notice.kind,
                "from_day": notice.from_day.isoformat(),
                "to_day": notice.to_day.isoformat() if notice.to_day else None,
                "ground": notice.case.ground.value,
                "legal_basis": letters.legal_basis(notice.case.ground),
            },
        )
        receipt = await self._deliver(item, self.channels.deliver_payment_notice)
        metrics.payment_notice_sent(notice, receipt)
        return receipt

    @activity.defn
    async def raise_alarm(self, alarm: Alarm) -> Receipt:
        """The 3-month limit for carrying out a deduction is near and the case is not decided."""
        item = self._item(
            key=alarm.idempotency_key,
            case=alarm.case,
            kind="alarm",
            channel="operator",
            recipient="operator",
            text=letters.alarm_text(alarm),
            payload={"limit": alarm.limit.isoformat(), "stage": alarm.stage},
        )
        receipt = await self._deliver(item, self.channels.deliver_alarm)
        metrics.alarm_raised(alarm, receipt)
        return receipt
