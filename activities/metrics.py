"""Business counters, recorded by the activities through the worker's metric meter (Prometheus in production).

Counted where the I/O happens, because the workflow must stay deterministic and its history is replayed:
an activity runs once per delivery. A retry that finds its message already delivered (``Receipt.duplicate``)
counts nothing, so a counter means "sent", not "attempted". Labels are small fixed sets (channels, kinds,
outcomes), never ids or personal data. Outside a Temporal activity (unit tests calling methods directly)
nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping

from temporalio import activity

from activities.models import Alarm, Letter, PaymentNotice, Receipt, TaskEscalation, TaskNotice
from domain.events import DigitalPostStatus

LETTERS = "missed_meeting_letters_sent"
CONTACT_MESSAGES = "missed_meeting_contact_messages_sent"
TASKS = "missed_meeting_tasks_opened"
DECISIONS = "missed_meeting_decisions"
PAYMENT_NOTICES = "missed_meeting_payment_notices"
ALARMS = "missed_meeting_alarms"
ESCALATIONS = "missed_meeting_tasks_escalated"

_HELP = {
    LETTERS: "Letters sent, by kind (hearing, decision, reassessment), channel and recipient",
    CONTACT_MESSAGES: "NemSMS and e-mails sent to reach the citizen, by channel",
    TASKS: "Caseworker tasks opened, by kind",
    DECISIONS: "Decisions and reassessments sent to the citizen, by outcome",
    PAYMENT_NOTICES: "Notices to the payment system, by kind",
    ALARMS: "Alarms raised: the deduction limit is near and the case is undecided",
    ESCALATIONS: "Overdue caseworker tasks escalated, by kind and to whom (assignee, team_lead)",
}


def _count(name: str, attributes: Mapping[str, str | int | float | bool], receipt: Receipt) -> None:
    if receipt.duplicate or not activity.in_activity():
        return
    activity.metric_meter().create_counter(name, _HELP[name]).add(1, attributes)


def _first_citizen_channel(letter: Letter) -> str:
    """The channel counted for a decision: a citizen who never logged in gets it twice (Digital Post and paper)."""
    return "physical_post" if letter.citizen.digital_post == DigitalPostStatus.exempt else "digital_post"


def letter_sent(letter: Letter, receipt: Receipt) -> None:
    recipient = "citizen" if letter.to == "citizen" else "representative"
    _count(LETTERS, {"kind": letter.kind, "channel": letter.channel, "recipient": recipient}, receipt)
    if letter.kind != "hearing" and letter.to == "citizen" and letter.channel == _first_citizen_channel(letter):
        _count(DECISIONS, {"kind": letter.kind, "outcome": letter.decision or "unknown"}, receipt)


def contact_message_sent(channel: str, receipt: Receipt) -> None:
    _count(CONTACT_MESSAGES, {"channel": channel}, receipt)


def task_opened(task: TaskNotice, receipt: Receipt) -> None:
    _count(TASKS, {"kind": task.kind.value}, receipt)


def task_escalated(esc: TaskEscalation, receipt: Receipt) -> None:
    _count(ESCALATIONS, {"kind": esc.kind.value, "to": esc.to}, receipt)


def payment_notice_sent(notice: PaymentNotice, receipt: Receipt) -> None:
    _count(PAYMENT_NOTICES, {"kind": notice.kind}, receipt)


def alarm_raised(alarm: Alarm, receipt: Receipt) -> None:
    _count(ALARMS, {"stage": alarm.stage}, receipt)
