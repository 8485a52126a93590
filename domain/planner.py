"""Given a case's state, its policy and the time: what is the next step, and when (domain.md §§ 1-5).

The workflow runs a loop of `next_action` → execute → record. All process knowledge lives here, so the
workflow reads like plumbing and this module can be tested in milliseconds without Temporal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain import journal as j
from domain.calendar import Deadline, WorkingCalendar
from domain.case import CaseState
from domain.case import OpenTask as CaseTask
from domain.events import Decision, DigitalPostStatus, TaskCompleted, TaskKind
from domain.policy import LadderStepKind, Policy
from domain.rules import ladder_exhausted, needs_extended_hearing


# -- actions ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Wait:
    """Nothing to do until `until` (None: until something happens), and why."""

    until: datetime | None
    reason: str


@dataclass(frozen=True)
class SendHearingLetters:
    release_on: date


@dataclass(frozen=True)
class SendDeadlineReminder:
    """NemSMS to the citizen: the answer deadline (its last day) is tomorrow, or the next working day."""

    deadline: date


@dataclass(frozen=True)
class CheckInbound:
    pass


@dataclass(frozen=True)
class OpenTask:
    kind: TaskKind
    attempt: int = 1
    role: str | None = None


@dataclass(frozen=True)
class CancelTasks:
    kinds: tuple[TaskKind, ...]
    reason: str


@dataclass(frozen=True)
class SendSms:
    number: int


@dataclass(frozen=True)
class SendEmail:
    number: int


@dataclass(frozen=True)
class SkipRung:
    kind: LadderStepKind
    reason: str


@dataclass(frozen=True)
class RaiseAlarm:
    limit: date


@dataclass(frozen=True)
class SendDecisionLetter:
    kind: str  # "decision" or "reassessment"
    number: int = 1


@dataclass(frozen=True)
class RegisterDeduction:
    from_day: date
    to_day: date | None


@dataclass(frozen=True)
class EndDeduction:
    to_day: date


@dataclass(frozen=True)
class ReverseDeduction:
    pass


@dataclass(frozen=True)
class Close:
    pass


@dataclass(frozen=True)
class EscalateTask:
    """An open task is overdue: remind its assignee (or the team's queue), or tell the team lead."""

    key: str
    kind: TaskKind
    step: int
    """Which of the policy's escalation steps (0-based); also part of the notice's idempotency key."""
    to: str
    due_at: datetime
    assignee: str | None


Action = (
    Wait
    | SendHearingLetters
    | SendDeadlineReminder
    | CheckInbound
    | OpenTask
    | CancelTasks
    | SendSms
    | SendEmail
    | SkipRung
    | RaiseAlarm
    | SendDecisionLetter
    | RegisterDeduction
    | EndDeduction
    | ReverseDeduction
    | Close
    | EscalateTask
)

LADDER_TASKS = (TaskKind.phone_call, TaskKind.representative, TaskKind.home_visit)
KEPT_AFTER_DECISION = (TaskKind.reassessment, TaskKind.manual_delivery)
"""Tasks a decision does not make moot: the case closes only once they are done."""


# -- recipients ---------------------------------------------------------------------------------------------
def citizen_channels(state: CaseState) -> list[str]:
    """Digital Post; paper for the exempt; both for those who never logged in (with Digital Post guidance)."""
    status = state.citizen.digital_post
    if status == DigitalPostStatus.registered:
        return ["digital_post"]
    if status == DigitalPostStatus.exempt:
        return ["physical_post"]
    return ["digital_post", "physical_post"]


def copy_channel(address: str | None, email: str | None) -> str:
    """How a representative gets a copy: paper to a known address, else e-mail, else a caseworker forwards it."""
    if address:
        return "physical_post"
    if email:
        return "email"
    return "caseworker"


# -- the limits -----------------------------------------------------------------------------------------------
def deduction_limit(state: CaseState, policy: Policy, cal: WorkingCalendar) -> date:
    """The last day a deduction for this absence can be carried out (3 whole calendar months)."""
    return cal.months_after(cal.local(state.absence_at).date(), policy.deduction_limit_months)


def alarm_at(state: CaseState, policy: Policy, cal: WorkingCalendar) -> datetime:
    limit = deduction_limit(state, policy, cal)
    return cal.at(limit - timedelta(days=policy.alarm_days_before_limit), cal.opens)


def deadline_reminder_at(state: CaseState, policy: Policy, cal: WorkingCalendar) -> datetime | None:
    """When to remind the citizen of the answer deadline by NemSMS, or None: office opening on the working day
    before the deadline's last day, if the policy asks for it, the citizen is registered for NemSMS, and that
    moment comes after the hearing letter."""
    if not policy.deadline_reminder_sms or not state.citizen.nemsms:
        return None
    if state.hearing_sent_at is None or state.deadline_last_day is None:
        return None
    at = cal.at(cal.previous_working_day(state.deadline_last_day), cal.opens)
    return at if at > state.hearing_sent_at else None


def _earliest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


# -- caseworkers' tasks: due and overdue ------------------------------------------------------------------------
def task_due_at(policy: Policy, cal: WorkingCalendar, opened_at: datetime, kind: TaskKind) -> datetime:
    """When a task opened at `opened_at` falls due: the policy's working hours for its kind."""
    return cal.add_working_hours(opened_at, policy.tasks.due_hours(kind))


def escalation_at(task: CaseTask, policy: Policy, cal: WorkingCalendar) -> datetime | None:
    """When the task's next escalation step is due, or None (no due time, or every step taken)."""
    steps = policy.tasks.escalation
    if task.due_at is None or task.escalations >= len(steps):
        return None
    hours = steps[task.escalations].after_overdue_working_hours
    return cal.add_working_hours(task.due_at, hours) if hours else task.due_at


def _overdue(state: CaseState, policy: Policy, cal: WorkingCalendar, now: datetime) -> EscalateTask | None:
    for task in state.open_tasks:
        at = escalation_at(task, policy, cal)
        if at is not None and now >= at:
            assert task.due_at is not None
            return EscalateTask(task.key, task.kind, task.escalations, policy.tasks.escalation[task.escalations].to,
                                task.due_at, task.assignee)
    return None


def _or_escalation(wait: Wait, state: CaseState, policy: Policy, cal: WorkingCalendar) -> Wait:
    """A wait also ends when an open task's next escalation falls due, if that comes first."""
    pending = [(at, t) for t in state.open_tasks if (at := escalation_at(t, policy, cal)) is not None]
    if not pending:
        return wait
    at, task = min(pending, key=lambda p: p[0])
    if wait.until is not None and wait.until <= at:
        return wait
    return Wait(at, f"{wait.reason} (or the overdue {task.kind.value} task's escalation)")


# -- the plan -------------------------------------------------------------------------------------------------
def next_action(state: CaseState, policy: Policy, cal: WorkingCalendar, now: datetime) -> Action:
    """The single next thing to do. Outbound actions happen only in office hours on working days."""
    if state.closed:
        return Wait(None, "case closed")
    overdue = _overdue(state, policy, cal, now)
    if overdue is not None:
        return overdue
    office_now = cal.is_office_time(now)
    next_open = cal.next_office_time(now)
    if state.decision is None:
        action = _before_decision(state, policy, cal, now, office_now, next_open)
    else:
        action = _after_decision(state, office_now, next_open)
    return _or_escalation(action, state, policy, cal) if isinstance(action, Wait) else action


def _before_decision(
    state: CaseState, policy: Policy, cal: WorkingCalendar, now: datetime, office_now: bool, next_open: datetime
) -> Action:
    alarm = None if state.alarm_raised else alarm_at(state, policy, cal)
    if alarm is not None and now >= alarm:
        return RaiseAlarm(deduction_limit(state, policy, cal))

    if state.hearing_sent_at is None:
        if state.task(TaskKind.manual_delivery) is not None:
            return Wait(alarm, "manual delivery of the hearing letter")
        release = cal.first_office_time_after_day_of(state.absence_at)
        if now < release:
            return Wait(release, "hearing letter release (first working day after the absence)")
        if not office_now:
            return Wait(next_open, "office hours for the hearing letter")
        return SendHearingLetters(release_on=cal.local(now).date())

    if state.answered:
        ladder_open = tuple(t.kind for t in state.open_tasks if t.kind in LADDER_TASKS)
        if ladder_open:
            return CancelTasks(ladder_open, "contact made")
        if state.task(TaskKind.decision) is None:
            return OpenTask(TaskKind.decision) if office_now else Wait(next_open, "office hours for the decision task")
        return Wait(alarm, "decision by a caseworker")

    assert state.deadline_ends_at is not None
    if now < state.deadline_ends_at:
        return _before_deadline(state, now, office_now, next_open, alarm)

    if state.task(TaskKind.decision) is not None:
        return Wait(alarm, "decision by a caseworker")
    if not needs_extended_hearing(state, policy) or ladder_exhausted(state, policy):
        return OpenTask(TaskKind.decision) if office_now else Wait(next_open, "office hours for the decision task")
    return _ladder(state, policy, now, office_now, next_open, alarm)


def _before_deadline(
    state: CaseState, now: datetime, office_now: bool, next_open: datetime, alarm: datetime | None
) -> Action:
    """Waiting for an answer: the NemSMS reminder when it is due (in office hours), else the deadline."""
    assert state.deadline_ends_at is not None and state.deadline_last_day is not None
    due = None if state.deadline_reminder_sent else state.deadline_reminder_at
    if due is not None and now >= due:
        if office_now:
            return SendDeadlineReminder(state.deadline_last_day)
        due = next_open if next_open < state.deadline_ends_at else None  # else too late to be of use
    if due is None:
        return Wait(_earliest(state.deadline_ends_at, alarm), "answer deadline")
    return Wait(_earliest(due, alarm), "NemSMS reminder of the answer deadline")


def _ladder(
    state: CaseState, policy: Policy, now: datetime, office_now: bool, next_open: datetime, alarm: datetime | None
) -> Action:
    """Extended hearing (*udvidet partshøring*): the next attempt at personal contact."""
    open_ladder = [t for t in state.open_tasks if t.kind in LADDER_TASKS]
    if open_ladder:
        return Wait(alarm, f"{open_ladder[0].kind.value} task to be completed")
    if state.ladder_not_before is not None and now < state.ladder_not_before:
        return Wait(_earliest(state.ladder_not_before, alarm), "time for the citizen to react")
    if not office_now:
        return Wait(_earliest(next_open, alarm), "office hours for the next contact attempt")

    step = policy.ladder[state.ladder_rung]
    citizen = state.citizen
    attempt = state.ladder_attempt + 1
    match step.kind:
        case LadderStepKind.inbound_check:
            return CheckInbound()
        case LadderStepKind.phone_call:
            if not citizen.phone:
                return SkipRung(step.kind, "no phone number on file")
            return OpenTask(TaskKind.phone_call, attempt)
        case LadderStepKind.nemsms:
            if not citizen.nemsms:
                return SkipRung(step.kind, "not registered for NemSMS")
            return SendSms(state.sms_sent + 1)
        case LadderStepKind.email:
            if not citizen.email:
                return SkipRung(step.kind, "no e-mail address on file")
            return SendEmail(state.emails_sent + 1)
        case LadderStepKind.representative:
            reps = state.representatives_to_ask(tuple(r.value for r in policy.contact_representative_roles))
            if not reps:
                return SkipRung(step.kind, "no mentor, støttekontaktperson or social services contact on file")
            return OpenTask(TaskKind.representative, attempt, role=reps[state.ladder_attempt].role.value)
        case LadderStepKind.home_visit:
            return OpenTask(TaskKind.home_visit, attempt)
    raise AssertionError(f"unknown ladder step {step.kind}")  # pragma: no cover


def _after_decision(state: CaseState, office_now: bool, next_open: datetime) -> Action:
    assert state.decision is not None
    sanctioned = state.decision.decision == Decision.sanction
    superseded = tuple(t.kind for t in state.open_tasks if t.kind not in KEPT_AFTER_DECISION)
    if superseded:
        return CancelTasks(superseded, "case decided")
    if not state.decision_letter_sent:
        return SendDecisionLetter("decision") if office_now else Wait(next_open, "office hours for the decision letter")
    if sanctioned and not state.deduction_registered:
        return RegisterDeduction(state.absence_day, last_deducted_day(state))
    if state.reassessment_letters_sent < state.reassessments_done:
        if not office_now:
            return Wait(next_open, "office hours for the reassessment letter")
        return SendDecisionLetter("reassessment", state.reassessment_letters_sent + 1)
    if sanctioned and state.annulled and not state.deduction_reversed:
        return ReverseDeduction()
    if (
        sanctioned
        and not state.annulled
        and state.available_again_on is not None
        and not state.deduction_end_registered
    ):
        return EndDeduction(last_deducted_day(state) or state.absence_day)
    if state.new_information_pending and state.task(TaskKind.reassessment) is None:
        return OpenTask(TaskKind.reassessment) if office_now else Wait(next_open, "office hours for reassessment")
    if state.open_tasks:
        return Wait(None, f"{state.open_tasks[0].kind.value} task to be completed")
    if sanctioned and not state.annulled and not state.deduction_end_registered:
        return Wait(None, "contact restored (the deduction runs until then)")
    return Close()


def last_deducted_day(state: CaseState) -> date | None:
    """The deduction runs from the missed meeting's day until the day before the citizen is available again."""
    if state.available_again_on is None:
        return None
    return max(state.absence_day, state.available_again_on - timedelta(days=1))


# -- recording what was done ------------------------------------------------------------------------------------
def rung_attempts(state: CaseState, policy: Policy) -> int:
    step = policy.ladder[state.ladder_rung]
    if step.kind == LadderStepKind.representative:
        reps = state.representatives_to_ask(tuple(r.value for r in policy.contact_representative_roles))
        return min(step.attempts, len(reps))
    return step.attempts


def after_attempt(state: CaseState, policy: Policy, cal: WorkingCalendar, now: datetime) -> None:
    """One attempt on the current rung is done: move on, and give the citizen time to react."""
    step = policy.ladder[state.ladder_rung]
    state.ladder_attempt += 1
    if state.ladder_attempt >= rung_attempts(state, policy):
        state.ladder_rung += 1
        state.ladder_attempt = 0
    state.ladder_not_before = cal.add_working_hours(now, step.wait_hours) if step.wait_hours else None


def skip_rung(state: CaseState, action: SkipRung, now: datetime) -> None:
    state.note(now, j.LADDER_STEP_SKIPPED, rung=action.kind.value, reason=action.reason)
    state.ladder_rung += 1
    state.ladder_attempt = 0


def record_task_outcome(
    state: CaseState, policy: Policy, cal: WorkingCalendar, ev: TaskCompleted, now: datetime
) -> None:
    """A caseworker's (validated) outcome for a ladder, reassessment or manual delivery task."""
    state.on_task_completed(ev, now)
    if ev.task == TaskKind.manual_delivery and state.hearing_sent_at is None:
        delivered, deadline = hearing_deadline(policy, cal, now, [])  # delivered by hand today
        record_hearing(state, now, delivered, deadline)
    if ev.task in LADDER_TASKS and state.decision is None and state.ladder_rung < len(policy.ladder):
        after_attempt(state, policy, cal, now)


def hearing_deadline(
    policy: Policy, cal: WorkingCalendar, sent_at: datetime, channels: list[str]
) -> tuple[date, Deadline]:
    """Deadline from the latest delivery among the citizen's channels (paper counts as delivered later)."""
    delivered = cal.local(sent_at).date()
    if "physical_post" in channels:
        delivered = cal.paper_delivery_day(delivered, policy.paper_delivery_working_days)
    return delivered, cal.answer_deadline(delivered, policy.answer_deadline_days)


def record_hearing(state: CaseState, sent_at: datetime, delivered: date, deadline: Deadline) -> None:
    state.hearing_sent_at = sent_at
    state.deadline_last_day = deadline.last_day
    state.deadline_ends_at = deadline.ends_at
    state.note(
        sent_at,
        j.DEADLINE_SET,
        deadline=deadline.last_day.isoformat(),
        ends_at=deadline.ends_at.isoformat(),
        delivered_on=delivered.isoformat(),
    )
