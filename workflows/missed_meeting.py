"""MissedMeetingWorkflow: one durable case per missed meeting, from hearing to closed case.

The workflow is plumbing: it asks `domain.planner.next_action` what to do, does it through an activity or a
timer, and records the result in the case state. Everything a caseworker or a citizen does arrives as an
update whose validator refuses what the rules forbid. The journal in the state is the case file; the
`timeline` query returns it in the contract's format.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

with workflow.unsafe.imports_passed_through():
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
    from domain import journal as j
    from domain import planner as plan
    from domain import recording as rec
    from domain.calendar import WorkingCalendar
    from domain.case import CaseState, OpenTask
    from domain.events import Decision, TaskAssigned, TaskCompleted, TaskKind
    from domain.rules import decision_refusal, task_refusal
    from workflows import search_attributes as sa
    from workflows.api import (
        CASE_CLOSED,
        DECISION_REFUSED,
        DUPLICATE_EVENT,
        TASK_NOT_OPEN,
        CaseInput,
        CaseResult,
        CaseStatus,
        CitizenEventInput,
        EventAck,
        OpenTaskView,
        Outcome,
        Timeline,
    )

T = TypeVar("T")

OUTBOUND_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), backoff_coefficient=2.0,
                             maximum_interval=timedelta(minutes=10))
"""Channels fail transiently (timeouts, 5xx): keep retrying with backoff; permanent failures are non-retryable."""
OUTBOUND_TIMEOUT = timedelta(seconds=30)
"""One attempt's limit: an outbox write takes milliseconds, an SF1601 call at most its 10 s request timeout. It is
also how long a send waits, after a worker died during it, before it is tried again (bench/crash_drill.py)."""

TASK_DUE_PATCH = "task-due-and-escalation"
"""`workflow.patched` id of due times on caseworkers' tasks (and so the escalation of overdue ones). Tasks a case
opened before it existed have no due time and never escalate; replaying their histories issues no new commands."""

ONE_UPSERT_PATCH = "one-upsert-per-rest"
"""`workflow.patched` id of publishing the search attributes once per rest instead of after every step too: one
`UpsertWorkflowSearchAttributes` event (one visibility write) fewer for most workflow tasks (bench/perf_case.py)."""

DEADLINE_REMINDER_PATCH = "deadline-reminder-nemsms"
"""`workflow.patched` id of the NemSMS reminder before the answer deadline (README: Changing the workflow
safely). Cases whose hearing letter went out before it existed keep waiting without the reminder."""


@workflow.defn(name="MissedMeetingWorkflow")
class MissedMeetingWorkflow:
    """*Udeblivelse*: partshøring, deadline, udvidet partshøring, afgørelse, brev, fradrag."""

    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        self.inp = inp
        self.policy = inp.policy.policy
        self.cal = WorkingCalendar(inp.policy)
        self.state = inp.state or CaseState.open(inp.case, self.cal)
        self.offset = timedelta(seconds=inp.clock_offset_seconds)
        self.changed = False
        self.waiting_for = ""
        self.wake_at: Any = None
        self.wid = workflow.info().workflow_id
        self.ref = CaseRef(
            workflow_id=self.wid,
            meeting_id=inp.case.meeting_id,
            case_id=inp.case.case_id,
            ground=inp.case.ground,
            absence_at=inp.case.occurred_at,
        )
        if inp.state is None:  # here, not in run(): an update in the first activation is handled before run()
            self.state.note(self.now(), j.CASE_OPENED, case_id=inp.case.case_id, ground=inp.case.ground.value,
                            readiness=inp.case.citizen.readiness.value, policy=self.policy.name)

    # -- the case's clock ---------------------------------------------------------------------------------------
    def now(self) -> Any:
        """The case's time in the policy's zone (server time, less the simulation offset)."""
        return self.cal.local(workflow.now() - self.offset).replace(microsecond=0)

    # -- the loop ---------------------------------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: CaseInput) -> CaseResult:
        self._publish()
        while not self.state.closed:
            action = plan.next_action(self.state, self.policy, self.cal, self.now())
            if isinstance(action, plan.Wait):
                if self._should_continue_as_new():
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    workflow.continue_as_new(CaseInput(case=inp.case, policy=inp.policy,
                                                       clock_offset_seconds=inp.clock_offset_seconds,
                                                       state=self.state))
                await self._wait(action)
            else:
                await self._do(action)
            if self._publish_after_each_step():
                self._publish()
        self._publish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._result()

    def _publish_after_each_step(self) -> bool:
        """Cases recorded before `ONE_UPSERT_PATCH` upserted their search attributes after every step and again
        before every wait (two visibility writes in one workflow task); newer cases publish once, when they come
        to rest (`_wait`) and when they close."""
        return not workflow.patched(ONE_UPSERT_PATCH)

    async def _wait(self, action: plan.Wait) -> None:
        self.waiting_for, self.wake_at = action.reason, action.until
        self._publish()
        self.changed = False
        timeout = None
        if action.until is not None:
            precise_now = workflow.now() - self.offset  # not truncated: wake exactly at `until`
            timeout = max(action.until - precise_now, timedelta(milliseconds=1))
        with contextlib.suppress(TimeoutError):  # the wait's deadline came first
            await workflow.wait_condition(lambda: self.changed, timeout=timeout, timeout_summary=action.reason)
        self.waiting_for, self.wake_at = "", None

    def _should_continue_as_new(self) -> bool:
        return workflow.info().is_continue_as_new_suggested()

    # -- doing --------------------------------------------------------------------------------------------------
    async def _do(self, action: plan.Action) -> None:
        """Do one step: its activities here, its effect on the case in `domain.recording`."""
        now = self.now()
        st = self.state
        match action:
            case plan.SendHearingLetters():
                await self._send_hearing(now, action)
            case plan.SendDeadlineReminder():
                await self._activity("send_sms", Sms(
                    idempotency_key=f"{self.wid}/sms/deadline-reminder", case=self.ref, citizen=st.citizen, number=0,
                    max_chars=self.policy.nemsms_max_chars, release_on=now.date(), deadline_reminder=action.deadline,
                ), Receipt, f"NemSMS reminder: answer by {action.deadline.isoformat()}")
                rec.deadline_reminder_sent(st, now, action.deadline)
            case plan.CheckInbound():
                res = await self._activity("check_inbound_contact", InboundCheck(case=self.ref, since=st.absence_at),
                                           InboundCheckResult, "check the case system for contact from the citizen")
                rec.inbound_checked(st, self.policy, self.cal, now, res.contact, res.via, res.note)
            case plan.OpenTask():
                await self._open_task(now, action)
            case plan.CancelTasks():
                for task in rec.tasks_to_cancel(st, action):
                    await self._activity("cancel_task", TaskCancellation(
                        idempotency_key=f"{task.key}/cancel", task_key=task.key, case=self.ref, reason=action.reason,
                    ), Receipt, f"withdraw {task.kind.value} task: {action.reason}")
                    rec.task_cancelled(st, now, task, action.reason)
            case plan.SendSms():
                await self._activity("send_sms", Sms(
                    idempotency_key=f"{self.wid}/sms/{action.number}", case=self.ref, citizen=st.citizen,
                    number=action.number, max_chars=self.policy.nemsms_max_chars, release_on=now.date(),
                ), Receipt, f"NemSMS {action.number} asking the citizen to call")
                rec.sms_sent(st, self.policy, self.cal, now, action.number)
            case plan.SendEmail():
                await self._activity("send_email", Email(
                    idempotency_key=f"{self.wid}/email/{action.number}", case=self.ref, citizen=st.citizen,
                    number=action.number,
                ), Receipt, f"e-mail {action.number} asking the citizen to get in touch")
                rec.email_sent(st, self.policy, self.cal, now, action.number)
            case plan.SkipRung():
                plan.skip_rung(st, action, now)
            case plan.RaiseAlarm():
                await self._activity("raise_alarm", Alarm(
                    idempotency_key=f"{self.wid}/alarm/deduction-limit", case=self.ref, limit=action.limit,
                    stage=st.stage().value,
                ), Receipt, f"alarm: deduction limit {action.limit.isoformat()} is near")
                rec.alarm_raised(st, now, action.limit)
            case plan.SendDecisionLetter():
                await self._send_decision_letters(now, action)
            case plan.RegisterDeduction():
                await self._payments("deduction_start", action.from_day, action.to_day)
                rec.deduction_registered(st, now, action.from_day, action.to_day)
            case plan.EndDeduction():
                await self._payments("deduction_end", st.absence_day, action.to_day)
                rec.deduction_ended(st, now, action.to_day)
            case plan.ReverseDeduction():
                await self._payments("reversal", st.absence_day, None)
                rec.deduction_reversed(st, now)
            case plan.Close():
                rec.case_closed(st, now)
            case plan.EscalateTask():
                who = "the team lead" if action.to == "team_lead" else (action.assignee or "the team's queue")
                await self._activity("escalate_task", TaskEscalation(
                    idempotency_key=f"{action.key}/escalation/{action.step + 1}", task_key=action.key,
                    case=self.ref, kind=action.kind, to=action.to, assignee=action.assignee, due_at=action.due_at,
                ), Receipt, f"overdue {action.kind.value} task: tell {who}")
                rec.task_escalated(st, now, action)

    async def _send_hearing(self, now: Any, action: plan.SendHearingLetters) -> None:
        st = self.state
        recipients = rec.letter_recipients(st)
        channels = [r.channel for r in recipients if r.to == "citizen"]
        delivered, deadline = plan.hearing_deadline(self.policy, self.cal, now, channels)
        common: dict[str, Any] = dict(case=self.ref, kind="hearing", citizen=st.citizen, release_on=action.release_on,
                                      deadline=deadline.last_day, deadline_ends_at=deadline.ends_at)
        sent = [r for r in recipients if await self._letter(Letter(
            idempotency_key=f"{self.wid}/hearing_letter/{self._addressee(r)}/{r.channel}", channel=r.channel,
            to=r.to, representative=r.representative,
            digital_post_guidance=r.to == "citizen" and r.channel == "physical_post" and len(channels) > 1,
            **common,
        ))]
        rec.hearing_sent(st, now, sent, delivered, deadline)
        reminder_at = plan.deadline_reminder_at(st, self.policy, self.cal)
        if reminder_at is not None and self._deadline_reminder_patched():
            st.deadline_reminder_at = reminder_at

    @staticmethod
    def _addressee(r: rec.Recipient) -> str:
        """The addressee's part of a letter's idempotency key: `citizen`, or `<n>-<role>` for a copy."""
        return "citizen" if r.representative is None else f"{r.number}-{r.to}"

    def _deadline_reminder_patched(self) -> bool:
        """True for cases that reach this point on code with the reminder; False when replaying a history from
        before it, so those cases keep the commands they were recorded with (a marker goes into new histories)."""
        return workflow.patched(DEADLINE_REMINDER_PATCH)

    async def _send_decision_letters(self, now: Any, action: plan.SendDecisionLetter) -> None:
        st = self.state
        assert st.decision is not None
        sanctioned = st.decision.decision.value == "sanction" and not st.annulled
        kind = action.kind
        common: dict[str, Any] = dict(
            case=self.ref, kind=kind, citizen=st.citizen, release_on=now.date(),
            decision=st.decision.decision.value if kind == "decision" else ("annul" if st.annulled else "uphold"),
            decision_reasons=st.decision.note, explanation=st.latest_explanation(), contact_log=st.contact_log(),
            deduction_from=st.absence_day if sanctioned else None,
            deduction_to=plan.last_deducted_day(st) if sanctioned else None,
            complaint_weeks=self.policy.complaint_weeks, deadline=st.deadline_last_day,
        )
        suffix = "decision_letter" if kind == "decision" else f"reassessment_letter/{action.number}"
        sent = [r for r in rec.letter_recipients(st) if await self._letter(Letter(
            idempotency_key=f"{self.wid}/{suffix}/{self._addressee(r)}/{r.channel}", channel=r.channel, to=r.to,
            representative=r.representative, **common,
        ))]
        rec.decision_letters_sent(st, now, kind, sent)

    async def _letter(self, letter: Letter) -> bool:
        """Send a letter: True once sent. A channel that refuses it for good (an invalid recipient, a letter it
        cannot take) does not end the case: the refusal is journaled and a caseworker gets a task to deliver the
        letter by other means (manual_delivery); False."""
        summary = f"{letter.kind} letter to {letter.to} by {letter.channel.replace('_', ' ')}"
        try:
            await self._activity("send_letter", letter, Receipt, summary)
            return True
        except ActivityError as err:
            if err.retry_state != RetryState.NON_RETRYABLE_FAILURE:
                raise
            reason = err.cause.message if isinstance(err.cause, ApplicationError) else "refused by the channel"
        now = self.now()
        rec.delivery_failed(self.state, now, letter.kind, letter.channel, letter.to, reason)
        await self._open_task(now, plan.OpenTask(TaskKind.manual_delivery,
                                                 role=None if letter.to == "citizen" else letter.to))
        return False

    async def _open_task(self, now: Any, action: plan.OpenTask) -> None:
        st = self.state
        key = st.next_task_key(self.wid, action.kind.value)
        role = f" ({action.role})" if action.role else ""
        due = plan.task_due_at(self.policy, self.cal, now, action.kind) if self._task_due_patched() else None
        await self._activity("open_task", TaskNotice(
            idempotency_key=key, case=self.ref, kind=action.kind, attempt=action.attempt, role=action.role,
            opened_at=now, summary=st.brief(action.kind.value), due_at=due,
        ), Receipt, f"task for a caseworker: {action.kind.value}{role}")
        rec.task_opened(st, now, action, key, due)

    def _task_due_patched(self) -> bool:
        """True on code with task due times; False when replaying a history from before them (its tasks keep
        having none, so no escalation commands appear that the history does not hold)."""
        return workflow.patched(TASK_DUE_PATCH)

    async def _payments(self, kind: str, from_day: Any, to_day: Any) -> None:
        await self._activity("notify_payments", PaymentNotice(
            idempotency_key=f"{self.wid}/payments/{kind}", case=self.ref, kind=kind, from_day=from_day, to_day=to_day,
        ), Receipt, f"tell payments: {kind.replace('_', ' ')}")

    async def _activity(self, name: str, arg: Any, result_type: type[T], summary: str) -> T:
        result = await workflow.execute_activity(
            name, arg, result_type=result_type, start_to_close_timeout=OUTBOUND_TIMEOUT,
            retry_policy=OUTBOUND_RETRY, summary=summary,
        )
        assert isinstance(result, result_type)
        return result

    # -- updates: the citizen's side --------------------------------------------------------------------------
    @workflow.update(name="citizen_event", description="Record that the citizen answered, turned up, or is "
                     "available again. Any contact stops the waiting and the contact attempts.")
    async def citizen_event(self, inp: CitizenEventInput) -> EventAck:
        ev = inp.event
        now = self._when(ev.occurred_at)
        if ev.type == "citizen_responded":
            self.state.on_response(ev, now)
        elif ev.type == "citizen_attended":
            self.state.on_attended(ev, now)
        else:
            self.state.on_contact_restored(ev, now)
        return self._ack(ev.event_id)

    @citizen_event.validator
    def _validate_citizen_event(self, inp: CitizenEventInput) -> None:
        self._refuse_seen_or_closed(inp.event.event_id)

    # -- updates: the caseworker's side -----------------------------------------------------------------------
    @workflow.update(name="complete_task", description="A caseworker reports a task's outcome (phone_call, "
                     "representative, home_visit, decision, reassessment). Refused if the task is not open or "
                     "the rules forbid the decision.")
    async def complete_task(self, ev: TaskCompleted) -> EventAck:
        now = self._when(ev.occurred_at)
        if ev.task == TaskKind.decision:
            reason = decision_refusal(self.state, self.policy, Decision(ev.outcome), now)
            if reason is not None:
                self.state.on_decision_refused(ev, now, reason)
                self.changed = True
                raise ApplicationError(f"decision refused: {reason}", type=DECISION_REFUSED, non_retryable=True)
            self.state.on_decision(ev, now)
        else:
            plan.record_task_outcome(self.state, self.policy, self.cal, ev, now)
        return self._ack(ev.event_id)

    @complete_task.validator
    def _validate_complete_task(self, ev: TaskCompleted) -> None:
        self._refuse_seen_or_closed(ev.event_id)
        if ev.task != TaskKind.decision:
            reason = task_refusal(self.state, ev)
            if reason is not None:
                raise ApplicationError(reason, type=TASK_NOT_OPEN, non_retryable=True)

    @workflow.update(name="assign_task", description="Give an open task to a caseworker (their user id, e.g. "
                     "initials), or back to the team's queue (assignee null). Claiming a task is assigning it to "
                     "yourself. Refused if no such task is open.")
    async def assign_task(self, ev: TaskAssigned) -> EventAck:
        self.state.on_task_assigned(ev, self._when(ev.occurred_at))
        return self._ack(ev.event_id)

    @assign_task.validator
    def _validate_assign_task(self, ev: TaskAssigned) -> None:
        self._refuse_seen_or_closed(ev.event_id)
        reason = task_refusal(self.state, ev)
        if reason is not None:
            raise ApplicationError(reason, type=TASK_NOT_OPEN, non_retryable=True)

    def _when(self, occurred_at: Any) -> Any:
        """When an event happened, for the journal and the rules: its own time if it lies between the
        absence and now (a late-delivered answer still counts from when it was given), else now."""
        now = self.now()
        at = self.cal.local(occurred_at).replace(microsecond=0)
        return at if self.state.absence_at <= at <= now else now

    def _refuse_seen_or_closed(self, event_id: str) -> None:
        if self.state.seen(event_id):
            raise ApplicationError(f"event {event_id} was already recorded", type=DUPLICATE_EVENT,
                                   non_retryable=True)
        if self.state.closed:
            raise ApplicationError("the case is closed", type=CASE_CLOSED, non_retryable=True)

    def _ack(self, event_id: str) -> EventAck:
        self.changed = True
        return EventAck(event_id=event_id, stage=self.state.stage().value)

    # -- queries ----------------------------------------------------------------------------------------------
    @workflow.query(name="timeline", description="The case journal: every step in the contract's format.")
    def timeline(self) -> Timeline:
        st = self.state
        outcome = None
        if st.decision is not None:
            day = (st.decision.at - st.absence_at).total_seconds() / 86400
            outcome = Outcome(decision=st.decision.decision.value, decided_at=self.cal.local(st.decision.at),
                              decided_day=round(day, 2))
        return Timeline(meeting_id=st.case.meeting_id, workflow_id=self.wid, steps=st.timeline(self.cal.tz),
                        outcome=outcome)

    @workflow.query(name="status", description="Stage, open tasks and what the case waits for.")
    def status(self) -> CaseStatus:
        st = self.state
        return CaseStatus(
            meeting_id=st.case.meeting_id, case_id=st.case.case_id, stage=st.stage().value, now=self.now(),
            deadline=st.deadline_last_day,
            open_tasks=[self._task_view(t) for t in st.open_tasks],
            waiting_for=self.waiting_for, wake_at=self.wake_at,
            decision=st.decision.decision.value if st.decision else None, closed=st.closed,
            clock_offset_seconds=self.inp.clock_offset_seconds,
        )

    def _task_view(self, t: OpenTask) -> OpenTaskView:
        steps = self.policy.tasks.escalation
        return OpenTaskView(kind=t.kind.value, key=t.key, opened_at=t.opened_at, attempt=t.attempt, role=t.role,
                            due_at=t.due_at, assignee=t.assignee,
                            escalated_to=steps[t.escalations - 1].to if 0 < t.escalations <= len(steps) else None)

    # -- views for the Web UI -----------------------------------------------------------------------------------
    def _publish(self) -> None:
        """Keep search attributes and current details in step with the state (views, never the source)."""
        st = self.state
        pending = ",".join(sorted({t.kind.value for t in st.open_tasks}))
        updates: list[SearchAttributeUpdate[Any]] = [
            sa.CASE_STAGE.value_set(st.stage().value),
            sa.READINESS.value_set(st.citizen.readiness.value),
            sa.LEGAL_GROUND.value_set(st.case.ground.value),
            sa.CASE_ID.value_set(st.case.case_id),
            sa.PENDING_TASK.value_set(pending) if pending else sa.PENDING_TASK.value_unset(),
        ]
        if st.decision is not None:
            updates.append(sa.DECISION.value_set(st.decision.decision.value))
        updates += self._task_attributes()
        if self.wake_at is not None:
            updates.append(sa.NEXT_DEADLINE.value_set(self.wake_at + self.offset))
        current = workflow.info().typed_search_attributes
        changed = [u for u in updates if current.get(u.key) != u.value]
        if changed:
            workflow.upsert_search_attributes(changed)
        workflow.set_current_details(self._details())

    def _task_attributes(self) -> list[SearchAttributeUpdate[Any]]:
        """Worklist filters: every pending kind, assignees, the earliest due time, how far escalated. Unset while
        nothing is set, so histories from before these attributes get no new commands. `TaskDue` keeps its last
        value when no task is left (like `NextDeadline`): the time-skipping server answers a describe with an
        unset datetime that the SDK cannot decode; filters pair it with `PendingTasks`, which is unset."""
        tasks = self.state.open_tasks
        current = workflow.info().typed_search_attributes
        kinds = sorted({t.kind.value for t in tasks})
        assignees = sorted({t.assignee for t in tasks if t.assignee})
        dues = [t.due_at for t in tasks if t.due_at is not None]
        level = max((t.escalations for t in tasks), default=0)
        steps = self.policy.tasks.escalation
        wanted: list[tuple[Any, Any]] = [
            (sa.PENDING_TASKS, kinds or None),
            (sa.ASSIGNED_TO, assignees or None),
            (sa.TASK_DUE, min(dues) + self.offset if dues else None),
            (sa.ESCALATION, steps[level - 1].to if 0 < level <= len(steps) else None),
        ]
        return [key.value_set(value) if value is not None else key.value_unset()
                for key, value in wanted
                if value is not None or (current.get(key) is not None and key is not sa.TASK_DUE)]

    def _details(self) -> str:
        st = self.state
        lines = [f"**Stage:** {st.stage().value}"]
        if st.deadline_last_day:
            lines.append(f"**Answer deadline:** {st.deadline_last_day.isoformat()}")
        if st.open_tasks:
            lines.append("**Open tasks:** " + ", ".join(self._task_line(t) for t in st.open_tasks))
        if self.waiting_for:
            until = f" (until {self.wake_at.isoformat(timespec='minutes')})" if self.wake_at else ""
            lines.append(f"**Waiting for:** {self.waiting_for}{until}")
        if st.decision:
            lines.append(f"**Decision:** {st.decision.decision.value}")
        recent = st.contact_log()[-8:]
        if recent:
            lines.append("**Contact log:**\n" + "\n".join(f"- {line}" for line in recent))
        return "\n\n".join(lines)

    def _task_line(self, t: OpenTask) -> str:
        parts = [f"due {t.due_at.isoformat(timespec='minutes')}"] if t.due_at else []
        parts.append(f"assigned to {t.assignee}" if t.assignee else "unassigned")
        view = self._task_view(t)
        if view.escalated_to:
            parts.append(f"escalated to {view.escalated_to.replace('_', ' ')}")
        return f"{t.kind.value} ({', '.join(parts)})"

    def _result(self) -> CaseResult:
        st = self.state
        return CaseResult(
            meeting_id=st.case.meeting_id,
            decision=st.decision.decision.value if st.decision else None,
            decided_at=st.decision.at if st.decision else None,
            closed_at=st.journal[-1].at if st.closed and st.journal else None,
        )
