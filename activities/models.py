"""Inputs and outputs of every activity: one pydantic model in, one out.

Each outbound input carries an `idempotency_key` derived from the workflow id and the step
(`<workflow_id>/hearing_letter/citizen/digital_post`, `<workflow_id>/task/3/phone_call`, ...). A channel that
sees the same key twice returns the first receipt and sends nothing: retries and crashed workers never send
twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain.events import Citizen, Ground, Representative, TaskKind

LetterKind = Literal["hearing", "decision", "reassessment"]
LetterChannel = Literal["digital_post", "physical_post", "email", "caseworker"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class CaseRef(_Model):
    """Identifies the case in every outbound message; no personal data."""

    workflow_id: str
    meeting_id: str
    case_id: str
    ground: Ground
    absence_at: datetime


class Letter(_Model):
    """A letter to the citizen or a copy to a representative, rendered and sent by `send_letter`."""

    idempotency_key: str
    case: CaseRef
    kind: LetterKind
    channel: LetterChannel
    to: str
    """`citizen` or the representative's role."""
    citizen: Citizen
    representative: Representative | None = None
    release_on: date
    """Held back until this working day (MeMo `doNotDeliverUntilDate`)."""
    deadline: date | None = None
    """Hearing letters: the last day to answer (MeMo `replyByDateTime` is its end)."""
    deadline_ends_at: datetime | None = None
    digital_post_guidance: bool = False
    """Paper letter to a citizen who never logged into Digital Post: include guidance on Digital Post."""
    decision: str | None = None
    decision_reasons: str | None = None
    explanation: str | None = None
    """The citizen's own explanation, quoted in decision letters."""
    contact_log: list[str] = []
    """Decision letters: how, when and how many times contact was attempted (udvidet partshøring)."""
    deduction_from: date | None = None
    deduction_to: date | None = None
    complaint_weeks: int = 4


class Receipt(_Model):
    """What a channel did with a message. `duplicate` is true when the key had been seen before."""

    idempotency_key: str
    message_id: str
    channel: str
    stored_at: datetime
    duplicate: bool = False


class Sms(_Model):
    """A NemSMS asking the citizen to call (MeMo header with a notification, at most `max_chars`)."""

    idempotency_key: str
    case: CaseRef
    citizen: Citizen
    number: int
    """The ladder's SMS count (1, 2, 3); 0 for the deadline reminder."""
    max_chars: int = 150
    release_on: date
    deadline_reminder: date | None = None
    """Set for the reminder before the hearing's answer deadline: the deadline's last day."""


class Email(_Model):
    idempotency_key: str
    case: CaseRef
    citizen: Citizen
    number: int


class TaskNotice(_Model):
    """A task for a caseworker (phone call, representative, home visit, decision, reassessment)."""

    idempotency_key: str
    case: CaseRef
    kind: TaskKind
    attempt: int = 1
    role: str | None = None
    opened_at: datetime
    summary: str
    """What the caseworker needs: the contact log so far, warning signs, the citizen's explanation."""
    due_at: datetime | None = None


class TaskEscalation(_Model):
    """An overdue task: a reminder to whoever has it (or the team's queue), or a word to the team lead."""

    idempotency_key: str
    task_key: str
    case: CaseRef
    kind: TaskKind
    to: Literal["assignee", "team_lead"]
    assignee: str | None = None
    due_at: datetime


class TaskCancellation(_Model):
    idempotency_key: str
    task_key: str
    case: CaseRef
    reason: str


class InboundCheck(_Model):
    """Rung 1 of the ladder: does the jobcenter's case system hold contact or new information?"""

    case: CaseRef
    since: datetime


class InboundCheckResult(_Model):
    contact: bool
    via: str | None = None
    note: str | None = None


class PaymentNotice(_Model):
    """Tells the payment system to start, end or reverse a deduction (LAS § 37)."""

    idempotency_key: str
    case: CaseRef
    kind: Literal["deduction_start", "deduction_end", "reversal"]
    from_day: date
    to_day: date | None = None


class Alarm(_Model):
    """The 3-month limit for carrying out a deduction is near and the case is not decided."""

    idempotency_key: str
    case: CaseRef
    limit: date
    stage: str
