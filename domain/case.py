"""A case's state and the facts that change it. Pure: the workflow owns one `CaseState` and calls these.

The state is a pydantic model so it can travel through continue-as-new unchanged, and every change writes a
journal entry: the journal is the case file (*notatpligt*), the state is what the planner reasons about.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from domain import journal as j
from domain.calendar import WorkingCalendar
from domain.events import (
    CONTACT_OUTCOMES,
    Citizen,
    CitizenAttended,
    CitizenResponded,
    ContactRestored,
    Decision,
    MeetingMissed,
    Representative,
    TaskAssigned,
    TaskCompleted,
    TaskKind,
)
from domain.journal import JournalEntry


class Stage(StrEnum):
    """Where the case is, in the words a K-kassen caseworker uses (also a search attribute)."""

    hearing = "hearing"
    awaiting_answer = "awaiting_answer"
    contacting = "contacting"
    awaiting_decision = "awaiting_decision"
    decided = "decided"
    reassessment = "reassessment"
    closed = "closed"


class OpenTask(BaseModel):
    """A task a caseworker must complete through the `complete_task` update."""

    kind: TaskKind
    key: str
    """Idempotency key of the task notice; also how the caseworker system refers to it."""
    opened_at: datetime
    attempt: int = 1
    role: str | None = None
    """For `representative` tasks: which representative to ask."""
    due_at: datetime | None = None
    """When the task should be done (policy `tasks`); None for tasks opened before due times existed."""
    assignee: str | None = None
    """The caseworker (user id) it is assigned to; None: the team's queue."""
    escalations: int = 0
    """How many of the policy's escalation steps have been taken for it."""


class Contact(BaseModel):
    at: datetime
    via: str


class Response(BaseModel):
    at: datetime
    channel: str
    explanation: str | None = None
    reasonable_cause: str | None = None


class DecisionRecord(BaseModel):
    decision: Decision
    at: datetime
    by: str | None = None
    note: str | None = None


class CaseState(BaseModel):
    """Everything the planner needs to know. Grows by appending; nothing is ever deleted."""

    case: MeetingMissed
    absence_day: date
    """The local (policy time zone) day of the absence: deductions and the § 35 check count from it."""
    seen_event_ids: list[str] = Field(default_factory=list)
    journal: list[JournalEntry] = Field(default_factory=list)

    hearing_sent_at: datetime | None = None
    deadline_last_day: date | None = None
    deadline_ends_at: datetime | None = None
    deadline_reminder_at: datetime | None = None
    """When the NemSMS reminder of the answer deadline goes out; None when the case gets none."""
    deadline_reminder_sent: bool = False

    responses: list[Response] = Field(default_factory=list)
    contact: Contact | None = None
    attended_at: datetime | None = None
    available_again_on: date | None = None
    """The day the citizen was available again (attended, or contact restored): ends a deduction."""

    ladder_rung: int = 0
    ladder_attempt: int = 0
    ladder_not_before: datetime | None = None
    home_visits: int = 0
    sms_sent: int = 0
    emails_sent: int = 0
    task_seq: int = 0
    open_tasks: list[OpenTask] = Field(default_factory=list)

    decision: DecisionRecord | None = None
    decision_letter_sent: bool = False
    deduction_registered: bool = False
    deduction_end_registered: bool = False
    annulled: bool = False
    deduction_reversed: bool = False
    reassessments_done: int = 0
    reassessment_letters_sent: int = 0
    new_information_pending: bool = False
    alarm_raised: bool = False
    closed: bool = False

    @classmethod
    def open(cls, case: MeetingMissed, cal: WorkingCalendar) -> CaseState:
        """A new case; the absence's day is taken in the policy's time zone, whatever offset the event used."""
        return cls(case=case, absence_day=cal.local(case.occurred_at).date())

    # -- derived --------------------------------------------------------------------------------------------
    @property
    def citizen(self) -> Citizen:
        return self.case.citizen

    @property
    def absence_at(self) -> datetime:
        return self.case.occurred_at

    @property
    def answered(self) -> bool:
        """Any contact counts as an answer to the hearing (domain.md § 2)."""
        return self.contact is not None

    def task(self, kind: TaskKind) -> OpenTask | None:
        return next((t for t in self.open_tasks if t.kind == kind), None)

    def stage(self) -> Stage:
        if self.closed:
            return Stage.closed
        if self.decision is not None:
            return Stage.reassessment if self.task(TaskKind.reassessment) else Stage.decided
        if self.task(TaskKind.decision):
            return Stage.awaiting_decision
        if self.hearing_sent_at is None:
            return Stage.hearing
        if self.deadline_ends_at and not self.answered and self.ladder_rung + self.ladder_attempt > 0:
            return Stage.contacting
        return Stage.awaiting_answer

    # -- journal --------------------------------------------------------------------------------------------
    def note(self, at: datetime, step: str, **details: Any) -> None:
        self.journal.append(JournalEntry(at=at, step=step, details={k: v for k, v in details.items()}))

    def timeline(self, tz_local: Any) -> list[dict[str, Any]]:
        absence = self.absence_at
        return [
            e.model_copy(update={"at": e.at.astimezone(tz_local)}).as_timeline_step(absence) for e in self.journal
        ]

    # -- facts from outside -----------------------------------------------------------------------------------
    def seen(self, event_id: str) -> bool:
        return event_id in self.seen_event_ids

    def _remember(self, event_id: str) -> None:
        self.seen_event_ids.append(event_id)

    def _contact(self, at: datetime, via: str) -> None:
        if self.contact is None:
            self.contact = Contact(at=at, via=via)
            self.note(at, j.CONTACT_MADE, via=via)

    def on_response(self, ev: CitizenResponded, at: datetime) -> None:
        self._remember(ev.event_id)
        self.responses.append(
            Response(at=at, channel=ev.channel, explanation=ev.explanation, reasonable_cause=ev.reasonable_cause)
        )
        self.note(
            at,
            j.RESPONSE_RECEIVED,
            channel=ev.channel.value,
            reasonable_cause=ev.reasonable_cause,
            explanation=ev.explanation,
        )
        if self.decision is None:
            self._contact(at, ev.channel.value)
        else:
            self.new_information_pending = True
            self._available_again(at)

    def on_attended(self, ev: CitizenAttended, at: datetime) -> None:
        self._remember(ev.event_id)
        if ev.explanation:
            self.responses.append(Response(at=at, channel="in_person", explanation=ev.explanation))
        self.attended_at = at
        self.note(at, j.CITIZEN_ATTENDED, explanation=ev.explanation)
        if self.decision is None:
            self._contact(at, "in_person")
        elif ev.explanation:
            self.new_information_pending = True
        self._available_again(at)

    def on_contact_restored(self, ev: ContactRestored, at: datetime) -> None:
        self._remember(ev.event_id)
        self.note(at, j.CONTACT_RESTORED)
        if self.decision is None:
            self._contact(at, "contact_restored")
        self._available_again(at)

    def on_inbound_contact(self, at: datetime, found: bool, via: str | None, note: str | None) -> None:
        """Ladder rung 1: what the jobcenter's own case system knew (a call, a visit, a supplier report)."""
        self.note(at, j.INBOUND_CONTACT_CHECKED, found=found, via=via, note=note)
        if found:
            self._contact(at, via or "case_system")

    def _available_again(self, at: datetime) -> None:
        if self.available_again_on is None:
            self.available_again_on = at.date()

    def on_task_assigned(self, ev: TaskAssigned, at: datetime) -> None:
        """Give a (validated) open task to a caseworker, or back to the team's queue."""
        self._remember(ev.event_id)
        task = self.task(ev.task)
        assert task is not None, "validated by the update validator"
        task.assignee = ev.assignee
        self.note(at, j.TASK_ASSIGNED, task=ev.task.value, assignee=ev.assignee, by=ev.by)

    def on_task_completed(self, ev: TaskCompleted, at: datetime) -> None:
        """Record a (validated) non-decision task outcome and advance the ladder."""
        self._remember(ev.event_id)
        task = self.task(ev.task)
        assert task is not None, "validated by the update validator"
        self.open_tasks.remove(task)
        if ev.task == TaskKind.phone_call:
            self.note(at, j.PHONE_CALL, outcome=ev.outcome, attempt=task.attempt, by=ev.by, note=ev.note)
        elif ev.task == TaskKind.representative:
            self.note(at, j.REPRESENTATIVE_CONTACTED, role=task.role, outcome=ev.outcome, by=ev.by, note=ev.note)
        elif ev.task == TaskKind.home_visit:
            self.home_visits += 1
            self.note(at, j.HOME_VISIT, outcome=ev.outcome, attempt=task.attempt, by=ev.by, note=ev.note)
        elif ev.task == TaskKind.manual_delivery:
            self.note(at, j.LETTER_DELIVERED_MANUALLY, to=task.role or "citizen", by=ev.by, note=ev.note)
            return
        elif ev.task == TaskKind.reassessment:
            self.reassessments_done += 1
            self.new_information_pending = False
            self.note(at, j.REASSESSMENT_MADE, outcome=ev.outcome, by=ev.by, note=ev.note)
            if ev.outcome == "annul":
                self.annulled = True
            return
        if ev.outcome in CONTACT_OUTCOMES:
            self._contact(at, ev.task.value if ev.task != TaskKind.representative else f"representative:{task.role}")

    def on_decision(self, ev: TaskCompleted, at: datetime) -> None:
        self._remember(ev.event_id)
        task = self.task(TaskKind.decision)
        if task is not None:
            self.open_tasks.remove(task)
        self.decision = DecisionRecord(decision=Decision(ev.outcome), at=at, by=ev.by, note=ev.note)
        self.note(at, j.DECISION_MADE, decision=ev.outcome, by=ev.by, note=ev.note)

    def on_decision_refused(self, ev: TaskCompleted, at: datetime, reason: str) -> None:
        """A refused decision is documented too: who tried, what, and why the rules said no. Its event id is
        remembered: the same event again is a duplicate, not a second refusal in the journal."""
        self._remember(ev.event_id)
        self.note(at, j.DECISION_REJECTED, decision=ev.outcome, by=ev.by, reason=reason)

    # -- what a caseworker needs to see -----------------------------------------------------------------------
    def contact_log(self) -> list[str]:
        """How, when and how many times contact was attempted (udvidet partshøring, documented)."""
        wanted = {
            j.HEARING_LETTER_SENT, j.DEADLINE_REMINDER_SENT, j.INBOUND_CONTACT_CHECKED, j.PHONE_CALL, j.SMS_SENT,
            j.EMAIL_SENT, j.REPRESENTATIVE_CONTACTED, j.HOME_VISIT, j.LADDER_STEP_SKIPPED, j.RESPONSE_RECEIVED,
            j.CITIZEN_ATTENDED, j.CONTACT_MADE,
        }
        lines = []
        for e in self.journal:
            if e.step in wanted:
                facts = ", ".join(
                    f"{k}={v}" for k, v in e.details.items() if v is not None and k not in {"explanation", "note"}
                )
                lines.append(f"{e.at.isoformat(timespec='minutes')} {e.step}" + (f" ({facts})" if facts else ""))
        return lines

    def warning_signs(self) -> list[str]:
        """Facts that may excuse the absence or make a sanction unlawful; shown on the decision task."""
        signs = []
        if self.citizen.digital_post.value == "never_logged_in":
            signs.append("the citizen has never logged into Digital Post (auto-enrolled?)")
        if self.citizen.guidance_given_on is None:
            signs.append("no written guidance on duties and sanctions on file (LAS § 35)")
        if any(e.step == j.LETTER_COPY_NEEDS_CASEWORKER for e in self.journal):
            signs.append("a representative's copy had to be forwarded by hand")
        return signs

    def latest_explanation(self) -> str | None:
        return next((r.explanation for r in reversed(self.responses) if r.explanation), None)

    def brief(self, kind: str) -> str:
        """The text on a task notice: what to do, the contact log so far, warning signs, the explanation."""
        parts = [f"Task: {kind} for case {self.case.case_id} (meeting {self.case.meeting_id}, {self.case.ground})."]
        if self.deadline_last_day:
            parts.append(f"Answer deadline: {self.deadline_last_day.isoformat()}.")
        explanation = self.latest_explanation()
        if explanation:
            parts.append(f"The citizen's explanation: {explanation}")
        signs = self.warning_signs()
        if signs:
            parts.append("Warning signs: " + "; ".join(signs) + ".")
        log = self.contact_log()
        if log:
            parts.append("Contact log:\n" + "\n".join(f"- {line}" for line in log))
        return "\n".join(parts)

    # -- bookkeeping for what the workflow did -----------------------------------------------------------------
    def next_task_key(self, workflow_id: str, kind: str) -> str:
        self.task_seq += 1
        return f"{workflow_id}/task/{self.task_seq}/{kind}"

    def representatives_to_ask(self, roles: tuple[str, ...]) -> list[Representative]:
        return [r for r in self.citizen.representatives if r.role in roles]
