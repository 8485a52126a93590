"""What a step, once done, changes in the case: its state and its journal.

The workflow calls these after a step's activities have succeeded; the tests' `CaseDriver` calls the very same
functions, so each effect has one definition and the workflow keeps only the I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain import journal as j
from domain import planner as plan
from domain.calendar import Deadline, WorkingCalendar
from domain.case import CaseState, OpenTask
from domain.events import Representative, TaskKind
from domain.policy import Policy


@dataclass(frozen=True)
class Recipient:
    """One letter of a mailing: the citizen on one of their channels, or a representative's copy."""

    to: str
    channel: str
    number: int = 0
    """Representatives are numbered from 1 in the citizen's list (part of the letter's idempotency key)."""
    representative: Representative | None = None


def letter_recipients(state: CaseState) -> list[Recipient]:
    """Who gets a letter, and how: the citizen's channels, then a copy to every representative."""
    recipients = [Recipient("citizen", channel) for channel in plan.citizen_channels(state)]
    for number, rep in enumerate(state.citizen.representatives, start=1):
        recipients.append(Recipient(rep.role.value, plan.copy_channel(rep.address, rep.email), number, rep))
    return recipients


def hearing_sent(
    state: CaseState, now: datetime, recipients: list[Recipient], delivered: date, deadline: Deadline
) -> None:
    """`recipients`: the letters that went out. Without one to the citizen no deadline runs yet: it starts
    when a caseworker has delivered the letter by hand (the manual_delivery task, `planner.record_task_outcome`)."""
    for r in recipients:
        state.note(now, j.HEARING_LETTER_SENT, channel=r.channel, to=r.to)
        if r.channel == "caseworker":
            state.note(now, j.LETTER_COPY_NEEDS_CASEWORKER, to=r.to, reason="no address or e-mail on file")
    if any(r.to == "citizen" for r in recipients):
        plan.record_hearing(state, now, delivered, deadline)


def delivery_failed(state: CaseState, now: datetime, kind: str, channel: str, to: str, reason: str) -> None:
    """A channel refused a letter for good; the reason is the channel's answer, without personal data."""
    state.note(now, j.LETTER_DELIVERY_FAILED, kind=kind, channel=channel, to=to, reason=reason)


def deadline_reminder_sent(state: CaseState, now: datetime, deadline: date) -> None:
    state.deadline_reminder_sent = True
    state.note(now, j.DEADLINE_REMINDER_SENT, deadline=deadline.isoformat())


def inbound_checked(
    state: CaseState, policy: Policy, cal: WorkingCalendar, now: datetime,
    contact: bool, via: str | None, note: str | None,
) -> None:
    state.on_inbound_contact(now, contact, via, note)
    plan.after_attempt(state, policy, cal, now)


def task_opened(
    state: CaseState, now: datetime, action: plan.OpenTask, key: str, due_at: datetime | None = None
) -> None:
    state.open_tasks.append(OpenTask(kind=action.kind, key=key, opened_at=now, attempt=action.attempt,
                                     role=action.role, due_at=due_at))
    if action.kind == TaskKind.decision:
        state.note(now, j.DECISION_TASK_OPENED, warning_signs=state.warning_signs() or None)
    elif action.kind == TaskKind.reassessment:
        state.note(now, j.REASSESSMENT_TASK_OPENED)
    else:
        state.note(now, j.TASK_OPENED, task=action.kind.value, attempt=action.attempt, role=action.role)


def task_escalated(state: CaseState, now: datetime, action: plan.EscalateTask) -> None:
    task = next(t for t in state.open_tasks if t.key == action.key)
    task.escalations = action.step + 1
    state.note(now, j.TASK_ESCALATED, task=action.kind.value, to=action.to, assignee=action.assignee,
               due=action.due_at.isoformat())


def tasks_to_cancel(state: CaseState, action: plan.CancelTasks) -> list[OpenTask]:
    return [t for t in state.open_tasks if t.kind in action.kinds]


def task_cancelled(state: CaseState, now: datetime, task: OpenTask, reason: str) -> None:
    state.open_tasks.remove(task)
    state.note(now, j.TASK_CANCELLED, task=task.kind.value, reason=reason)


def sms_sent(state: CaseState, policy: Policy, cal: WorkingCalendar, now: datetime, number: int) -> None:
    state.sms_sent += 1
    state.note(now, j.SMS_SENT, number=number)
    plan.after_attempt(state, policy, cal, now)


def email_sent(state: CaseState, policy: Policy, cal: WorkingCalendar, now: datetime, number: int) -> None:
    state.emails_sent += 1
    state.note(now, j.EMAIL_SENT, number=number)
    plan.after_attempt(state, policy, cal, now)


def alarm_raised(state: CaseState, now: datetime, limit: date) -> None:
    state.alarm_raised = True
    state.note(now, j.DEDUCTION_LIMIT_ALARM, limit=limit.isoformat())


def decision_letters_sent(state: CaseState, now: datetime, kind: str, recipients: list[Recipient]) -> None:
    for r in recipients:
        state.note(now, j.DECISION_LETTER_SENT, channel=r.channel, to=r.to, kind=kind)
    if kind == "decision":
        state.decision_letter_sent = True
    else:
        state.reassessment_letters_sent += 1


def deduction_registered(state: CaseState, now: datetime, from_day: date, to_day: date | None) -> None:
    state.deduction_registered = True
    state.deduction_end_registered = to_day is not None
    state.note(now, j.DEDUCTION_REGISTERED,
               **{"from": from_day.isoformat(), "to": to_day.isoformat() if to_day else None})


def deduction_ended(state: CaseState, now: datetime, to_day: date) -> None:
    state.deduction_end_registered = True
    state.note(now, j.DEDUCTION_ENDED, **{"from": state.absence_day.isoformat(), "to": to_day.isoformat()})


def deduction_reversed(state: CaseState, now: datetime) -> None:
    state.deduction_reversed = True
    state.note(now, j.SANCTION_ANNULLED, payments="reversed")


def case_closed(state: CaseState, now: datetime) -> None:
    state.closed = True
    state.note(now, j.CASE_CLOSED, decision=state.decision.decision.value if state.decision else None)
