"""Builders for domain tests, and `CaseDriver`: the case workflow's loop without Temporal.

`CaseDriver` mirrors `workflows/missed_meeting.py`: it asks `planner.next_action` what to do, applies each
action's effect to the `CaseState` the way `MissedMeetingWorkflow._do` does (same state fields, same journal
steps, same planner helpers), and sleeps through `Wait`s by moving its clock. Updates (citizen events, task
outcomes, decisions) go through the same validators the workflow's update handlers use. Outbound messages
are recorded in lists (`letters`, `payments`, `tasks_opened`, ...) instead of being sent.

Keep it in step with the workflow: if `_do` changes, change `CaseDriver.apply`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from domain import journal as j
from domain import planner as plan
from domain import recording as rec
from domain.calendar import WorkingCalendar
from domain.case import CaseState
from domain.events import (
    CitizenAttended,
    CitizenResponded,
    ContactRestored,
    Decision,
    MeetingMissed,
    TaskCompleted,
    TaskKind,
)
from domain.journal import JournalEntry
from domain.policy import Policy, PolicySnapshot, load_policy, snapshot
from domain.rules import decision_refusal, task_refusal

CPH = ZoneInfo("Europe/Copenhagen")
CPR = "0101901234"
"""The CPR number every test citizen has; tests assert it never leaks into messages."""


# -- time ----------------------------------------------------------------------------------------------------
def cph(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An aware datetime in Copenhagen local time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=CPH)


# -- policy and calendar -------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """config/policy.toml, loaded once."""
    return load_policy()


@lru_cache(maxsize=4)
def default_snapshot(first_year: int = 2026, years: int = 3) -> PolicySnapshot:
    return snapshot(default_policy(), first_year, years)


def default_calendar(first_year: int = 2026, years: int = 3) -> WorkingCalendar:
    return WorkingCalendar(default_snapshot(first_year, years))


PINNED_POLICY_DATA: dict[str, Any] = {
    "name": "pinned-for-tests",
    "answer_deadline_days": 8,
    "paper_delivery_working_days": 3,
    "office_hours": {"opens": time(8, 0), "closes": time(15, 0)},
    "calendar": {
        "country": "DK",
        "timezone": "Europe/Copenhagen",
        "extra_closed_days": ["06-05", "12-24", "12-31"],
    },
    "extended_hearing_for": ["aktivitetsparat"],
    "ladder": [
        {"kind": "inbound_check"},
        {"kind": "phone_call", "attempts": 2, "wait_hours": 3.5},
        {"kind": "nemsms", "attempts": 3, "wait_hours": 7},
        {"kind": "email", "attempts": 1, "wait_hours": 7},
        {"kind": "representative", "attempts": 3, "wait_hours": 7},
        {"kind": "home_visit", "attempts": 1, "wait_hours": 0},
    ],
    "min_home_visits": 1,
    "contact_representative_roles": ["mentor", "stoettekontaktperson", "social_services"],
    "sanction_allowed_for": ["jobparat", "uddannelsesparat", "aktivitetsparat"],
    "require_guidance": True,
    "deduction_limit_months": 3,
    "alarm_days_before_limit": 14,
    "complaint_weeks": 4,
    "nemsms_max_chars": 150,
    "deadline_reminder_sms": False,
}
"""Copenhagen's practice written out in code, so timing tests do not move when config/policy.toml is tuned.
The deadline reminder (a later addition) is off here, so these tests keep their exact step lists; its own
tests (tests/test_deadline_reminder.py) turn it on."""


def pinned_policy(**changes: Any) -> Policy:
    """`PINNED_POLICY_DATA` with some fields replaced, validated like a policy file would be."""
    return Policy.model_validate(PINNED_POLICY_DATA | changes)


@lru_cache(maxsize=1)
def pinned_snapshot() -> PolicySnapshot:
    return snapshot(pinned_policy(), 2026, 3)


def pinned_calendar() -> WorkingCalendar:
    return WorkingCalendar(pinned_snapshot())


def policy_with(**changes: Any) -> Policy:
    """The default policy (config/policy.toml) with some fields replaced, validated."""
    data = default_policy().model_dump()
    data.update(changes)
    return Policy.model_validate(data)


def snapshot_of(policy: Policy, first_year: int = 2026, years: int = 3) -> PolicySnapshot:
    return snapshot(policy, first_year, years)


# -- events --------------------------------------------------------------------------------------------------
def citizen_data(**overrides: Any) -> dict[str, Any]:
    """A jobparat citizen on Digital Post with phone, e-mail, NemSMS and § 35 guidance; no representatives."""
    data: dict[str, Any] = {
        "cpr": CPR,
        "name": "Jens Hansen",
        "address": "Nørrebrogade 1, 2200 København N",
        "readiness": "jobparat",
        "digital_post": "registered",
        "nemsms": True,
        "phone": "+4512345678",
        "email": "jens@example.dk",
        "guidance_given_on": "2025-12-01",
        "representatives": [],
    }
    data.update(overrides)
    return data


def representative_data(role: str = "mentor", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"role": role, "name": f"Rep {role}", "phone": "+4587654321"}
    data.update(overrides)
    return data


def meeting_missed_data(
    occurred_at: str = "2026-03-02T10:00:00+01:00",
    meeting_id: str = "M-1",
    citizen: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A `meeting_missed` event as a JSON-able dict (the contract's shape)."""
    data: dict[str, Any] = {
        "event_id": f"e-{meeting_id}",
        "type": "meeting_missed",
        "occurred_at": occurred_at,
        "meeting_id": meeting_id,
        "case_id": "K-2026-0001",
        "ground": "jobsamtale",
        "citizen": citizen if citizen is not None else citizen_data(),
    }
    data.update(overrides)
    return data


def make_case(
    occurred_at: str = "2026-03-02T10:00:00+01:00", meeting_id: str = "M-1", **citizen: Any
) -> MeetingMissed:
    """A validated `MeetingMissed`; keyword arguments override citizen fields."""
    return MeetingMissed.model_validate(
        meeting_missed_data(occurred_at=occurred_at, meeting_id=meeting_id, citizen=citizen_data(**citizen))
    )


def make_state(occurred_at: str = "2026-03-02T10:00:00+01:00", **citizen: Any) -> CaseState:
    return CaseState.open(make_case(occurred_at, **citizen), WorkingCalendar(pinned_snapshot()))


_event_ids = itertools.count(1)


def task_completed(
    task: TaskKind | str, outcome: str, at: datetime, meeting_id: str = "M-1", by: str | None = "cw-17"
) -> TaskCompleted:
    return TaskCompleted(
        event_id=f"t-{next(_event_ids)}",
        type="task_completed",
        occurred_at=at,
        meeting_id=meeting_id,
        task=TaskKind(task),
        outcome=outcome,
        by=by,
    )


# -- journal helpers -----------------------------------------------------------------------------------------
def steps(state: CaseState) -> list[str]:
    return [e.step for e in state.journal]


def entries(state: CaseState, step: str) -> list[JournalEntry]:
    return [e for e in state.journal if e.step == step]


# -- the workflow loop without Temporal ----------------------------------------------------------------------
class Refused(Exception):
    """An update the workflow's validator or handler would refuse."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


@dataclass
class Done:
    """An action the driver executed, and when."""

    at: datetime
    action: plan.Action


@dataclass
class SentLetter:
    kind: str
    channel: str
    to: str
    at: datetime
    release_on: date
    deadline: date | None = None
    digital_post_guidance: bool = False


@dataclass
class Payment:
    kind: str
    from_day: date
    to_day: date | None


@dataclass
class Caseworker:
    """Completes every task `hours` working hours after it opens, with the next scripted outcome (as the
    contract's simulated caseworker does). Without a script: no_answer / no_contact / sanction / uphold."""

    outcomes: dict[TaskKind, list[str]] = field(default_factory=dict)
    decision: str = Decision.sanction.value
    reassessment: str = "uphold"
    hours: float = 2.0

    def next_outcome(self, kind: TaskKind) -> str:
        if kind == TaskKind.decision:
            return self.decision
        if kind == TaskKind.reassessment:
            return self.reassessment
        listed = self.outcomes.get(kind)
        if listed:
            return listed.pop(0)
        return "no_answer" if kind == TaskKind.phone_call else "no_contact"


@dataclass(frozen=True)
class InboundResult:
    """What `check_inbound_contact` answers (rung 1 of the ladder)."""

    contact: bool = False
    via: str | None = None
    note: str | None = None


class CaseDriver:
    """One case, driven like `MissedMeetingWorkflow.run` drives it, on a fake clock.

    The default snapshot is the pinned test policy (`pinned_snapshot`)."""

    WORKFLOW_ID = "missed-meeting-M-1"

    def __init__(
        self,
        case: MeetingMissed,
        snap: PolicySnapshot | None = None,
        *,
        caseworker: Caseworker | None = None,
        inbound: InboundResult = InboundResult(),
        start: datetime | None = None,
    ) -> None:
        self.snap = snap or pinned_snapshot()
        self.policy = self.snap.policy
        self.cal = WorkingCalendar(self.snap)
        self.state = CaseState.open(case, self.cal)
        self.caseworker = caseworker
        self.inbound = inbound
        self.now = self.cal.local(start or case.occurred_at)
        self.done: list[Done] = []
        self.waits: list[tuple[datetime, plan.Wait]] = []
        self.letters: list[SentLetter] = []
        self.payments: list[Payment] = []
        self.sms: list[tuple[datetime, date]] = []
        """Deadline reminders sent (when, the deadline they name); the ladder's SMS are in the journal."""
        self.refusals: list[Refused] = []
        self._scheduled: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self.state.note(
            self.now,
            j.CASE_OPENED,
            case_id=case.case_id,
            ground=case.ground.value,
            readiness=case.citizen.readiness.value,
            policy=self.policy.name,
        )

    # -- the loop --------------------------------------------------------------------------------------------
    def next_action(self) -> plan.Action:
        return plan.next_action(self.state, self.policy, self.cal, self.now)

    def run(self, until: datetime, max_steps: int = 500) -> plan.Wait:
        """Act and sleep until the case waits past `until` (or for ever); the clock then reads `until`."""
        until = self.cal.local(until)
        for _ in range(max_steps):
            action = self.next_action()
            if not isinstance(action, plan.Wait):
                self.apply(action)
                continue
            self.waits.append((self.now, action))
            if action.until is not None and action.until <= self.now:
                raise AssertionError(f"planner waits for a moment that has passed: {action} at {self.now}")
            due = self._scheduled[0][0] if self._scheduled else None
            wake = min(m for m in (action.until, due) if m is not None) if (action.until or due) else None
            if wake is None or wake > until:
                self.now = max(self.now, until)
                return action
            self.now = max(self.now, self.cal.local(wake))
            self._fire_due()
        raise AssertionError(f"no Wait after {max_steps} steps; last actions: {self.done[-5:]}")

    def _fire_due(self) -> None:
        self._scheduled.sort(key=lambda s: (s[0], s[1]))
        while self._scheduled and self._scheduled[0][0] <= self.now:
            _, _, fn = self._scheduled.pop(0)
            fn()

    def schedule(self, at: datetime, fn: Callable[[], None]) -> None:
        self._scheduled.append((self.cal.local(at), next(self._seq), fn))
        self._scheduled.sort(key=lambda s: (s[0], s[1]))

    # -- actions (MissedMeetingWorkflow._do) -----------------------------------------------------------------
    def apply(self, action: plan.Action) -> None:
        """Do what the workflow's `_do` does, minus the I/O: record what would be sent, then the same
        `domain.recording` effect the workflow applies."""
        now, st = self.now, self.state
        self.done.append(Done(now, action))
        match action:
            case plan.SendHearingLetters():
                self._send_hearing(action)
            case plan.SendDeadlineReminder():
                self.sms.append((now, action.deadline))
                rec.deadline_reminder_sent(st, now, action.deadline)
            case plan.CheckInbound():
                rec.inbound_checked(st, self.policy, self.cal, now, self.inbound.contact, self.inbound.via,
                                    self.inbound.note)
            case plan.OpenTask():
                self._open_task(action)
            case plan.CancelTasks():
                for task in rec.tasks_to_cancel(st, action):
                    rec.task_cancelled(st, now, task, action.reason)
            case plan.SendSms():
                rec.sms_sent(st, self.policy, self.cal, now, action.number)
            case plan.SendEmail():
                rec.email_sent(st, self.policy, self.cal, now, action.number)
            case plan.SkipRung():
                plan.skip_rung(st, action, now)
            case plan.RaiseAlarm():
                rec.alarm_raised(st, now, action.limit)
            case plan.SendDecisionLetter():
                recipients = rec.letter_recipients(st)
                self.letters.extend(SentLetter(action.kind, r.channel, r.to, now, now.date()) for r in recipients)
                rec.decision_letters_sent(st, now, action.kind, recipients)
            case plan.RegisterDeduction():
                self.payments.append(Payment("deduction_start", action.from_day, action.to_day))
                rec.deduction_registered(st, now, action.from_day, action.to_day)
            case plan.EndDeduction():
                self.payments.append(Payment("deduction_end", st.absence_day, action.to_day))
                rec.deduction_ended(st, now, action.to_day)
            case plan.ReverseDeduction():
                self.payments.append(Payment("reversal", st.absence_day, None))
                rec.deduction_reversed(st, now)
            case plan.Close():
                rec.case_closed(st, now)
            case plan.EscalateTask():
                rec.task_escalated(st, now, action)
            case _:  # pragma: no cover
                raise AssertionError(f"driver does not know {action}")

    def _send_hearing(self, action: plan.SendHearingLetters) -> None:
        now, st = self.now, self.state
        recipients = rec.letter_recipients(st)
        channels = [r.channel for r in recipients if r.to == "citizen"]
        delivered, deadline = plan.hearing_deadline(self.policy, self.cal, now, channels)
        for r in recipients:
            guidance = r.to == "citizen" and r.channel == "physical_post" and len(channels) > 1
            self.letters.append(SentLetter("hearing", r.channel, r.to, now, action.release_on, deadline.last_day,
                                           digital_post_guidance=guidance))
        rec.hearing_sent(st, now, recipients, delivered, deadline)
        reminder_at = plan.deadline_reminder_at(st, self.policy, self.cal)
        if reminder_at is not None:  # the workflow's `patched(DEADLINE_REMINDER_PATCH)`: true for new cases
            st.deadline_reminder_at = reminder_at

    def _open_task(self, action: plan.OpenTask) -> None:
        now, st = self.now, self.state
        key = st.next_task_key(self.WORKFLOW_ID, action.kind.value)
        # the workflow's `patched(TASK_DUE_PATCH)`: true for new cases
        rec.task_opened(st, now, action, key, plan.task_due_at(self.policy, self.cal, now, action.kind))
        if self.caseworker is not None:
            worker = self.caseworker
            due = self.cal.add_working_hours(now, worker.hours)

            def complete() -> None:
                if not any(t.key == key for t in self.state.open_tasks):
                    return  # cancelled meanwhile
                try:
                    self.complete_task(action.kind, worker.next_outcome(action.kind))
                except Refused as exc:
                    self.refusals.append(exc)

            self.schedule(due, complete)

    # -- updates (MissedMeetingWorkflow.citizen_event / complete_task) ---------------------------------------
    def _event_base(self, prefix: str) -> dict[str, Any]:
        return {
            "event_id": f"{prefix}-{next(self._ids)}",
            "occurred_at": self.now,
            "meeting_id": self.state.case.meeting_id,
        }

    def _refuse_seen_or_closed(self, event_id: str) -> None:
        if self.state.seen(event_id):
            raise Refused("DuplicateEvent", f"event {event_id} was already recorded")
        if self.state.closed:
            raise Refused("CaseClosed", "the case is closed")

    def respond(
        self,
        channel: str = "letter",
        explanation: str | None = "I was ill",
        reasonable_cause: str | None = None,
        event_id: str | None = None,
    ) -> None:
        data = self._event_base("r") | {
            "type": "citizen_responded",
            "channel": channel,
            "explanation": explanation,
            "reasonable_cause": reasonable_cause,
        }
        if event_id:
            data["event_id"] = event_id
        ev = CitizenResponded.model_validate(data)
        self._refuse_seen_or_closed(ev.event_id)
        self.state.on_response(ev, self.now)

    def attend(self, explanation: str | None = None) -> None:
        ev = CitizenAttended.model_validate(
            self._event_base("a") | {"type": "citizen_attended", "explanation": explanation}
        )
        self._refuse_seen_or_closed(ev.event_id)
        self.state.on_attended(ev, self.now)

    def contact_restored(self) -> None:
        ev = ContactRestored.model_validate(self._event_base("c") | {"type": "contact_restored"})
        self._refuse_seen_or_closed(ev.event_id)
        self.state.on_contact_restored(ev, self.now)

    def complete_task(self, task: TaskKind | str, outcome: str, by: str | None = "cw-17") -> None:
        ev = task_completed(task, outcome, self.now, self.state.case.meeting_id, by)
        self._refuse_seen_or_closed(ev.event_id)
        if ev.task == TaskKind.decision:
            reason = decision_refusal(self.state, self.policy, Decision(ev.outcome), self.now)
            if reason is not None:
                self.state.on_decision_refused(ev, self.now, reason)
                raise Refused("DecisionRefused", reason)
            self.state.on_decision(ev, self.now)
            return
        reason = task_refusal(self.state, ev)
        if reason is not None:
            raise Refused("TaskNotOpen", reason)
        plan.record_task_outcome(self.state, self.policy, self.cal, ev, self.now)

    # -- reading the result ----------------------------------------------------------------------------------
    def actions(self, kind: type | tuple[type, ...] | None = None) -> list[Done]:
        return [d for d in self.done if kind is None or isinstance(d.action, kind)]

    def first(self, kind: type) -> Done:
        found = self.actions(kind)
        assert found, (
            f"no {kind.__name__} action was executed; done: {[type(d.action).__name__ for d in self.done]}"
        )
        return found[0]

    def steps(self) -> list[str]:
        return steps(self.state)

    def entries(self, step: str) -> list[JournalEntry]:
        return entries(self.state, step)
