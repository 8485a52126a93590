"""The planner, walked through whole cases with `CaseDriver` (the workflow's loop without Temporal)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from domain import journal as j
from domain import planner as plan
from domain.case import Stage
from domain.events import TaskKind
from domain.policy import EscalationStep, LadderStepKind, Policy, PolicySnapshot, TaskPolicy
from tests.factories import (
    CaseDriver,
    Caseworker,
    InboundResult,
    Payment,
    Refused,
    cph,
    default_snapshot,
    make_case,
    make_state,
    pinned_calendar,
    pinned_policy,
    pinned_snapshot,
    representative_data,
    snapshot_of,
)

POLICY = pinned_policy()
CAL = pinned_calendar()
MONDAY = "2026-03-02T10:00:00+01:00"  # absence; hearing letter Tue 3 March 08:00; deadline Wed 11 March
LATER = cph(2026, 9, 1)
NO_INBOUND = InboundResult()
OUTBOUND = (
    plan.SendHearingLetters,
    plan.OpenTask,
    plan.SendSms,
    plan.SendEmail,
    plan.SendDecisionLetter,
    plan.CheckInbound,
    plan.SkipRung,
)
ALL_REPS = [
    representative_data("mentor"),
    representative_data("stoettekontaktperson", email="skp@example.dk"),
    representative_data("social_services", address="Rådhuspladsen 1, 1550 København V"),
    representative_data("family", address="Vej 1, 2200 København N"),
]


def driver(
    occurred_at: str = MONDAY,
    *,
    caseworker: Caseworker | None = None,
    snap: PolicySnapshot | None = None,
    inbound: InboundResult = NO_INBOUND,
    **citizen: Any,
) -> CaseDriver:
    return CaseDriver(
        make_case(occurred_at, **citizen), snap or pinned_snapshot(), caseworker=caseworker, inbound=inbound
    )


def kinds(d: CaseDriver) -> list[str]:
    return [type(x.action).__name__ for x in d.done]


def assert_outbound_in_office_hours(d: CaseDriver) -> None:
    for done in d.actions(OUTBOUND):
        assert d.cal.is_office_time(done.at), (
            f"{done.action} at {done.at.isoformat()} is outside office hours"
        )


# -- the hearing letter --------------------------------------------------------------------------------------
def test_hearing_letter_waits_for_the_first_working_day_at_opening() -> None:
    state = make_state(MONDAY)
    action = plan.next_action(state, POLICY, CAL, cph(2026, 3, 2, 10, 0))
    assert action == plan.Wait(
        cph(2026, 3, 3, 8, 0), "hearing letter release (first working day after the absence)"
    )
    assert plan.next_action(state, POLICY, CAL, cph(2026, 3, 3, 8, 0)) == plan.SendHearingLetters(
        date(2026, 3, 3)
    )


def test_a_late_hearing_letter_still_waits_for_office_hours() -> None:
    state = make_state(MONDAY)
    # the worker was down: it is Tuesday evening and the letter has not gone out
    action = plan.next_action(state, POLICY, CAL, cph(2026, 3, 3, 18, 0))
    assert action == plan.Wait(cph(2026, 3, 4, 8, 0), "office hours for the hearing letter")
    assert plan.next_action(state, POLICY, CAL, cph(2026, 3, 4, 8, 0)) == plan.SendHearingLetters(
        date(2026, 3, 4)
    )


@pytest.mark.parametrize(
    ("absence", "letter_at", "last_day"),
    [
        (MONDAY, cph(2026, 3, 3, 8), date(2026, 3, 11)),
        ("2026-03-06T10:00:00+01:00", cph(2026, 3, 9, 8), date(2026, 3, 17)),  # Friday → Monday
        ("2026-03-07T12:00:00+01:00", cph(2026, 3, 9, 8), date(2026, 3, 17)),  # Saturday (selvbook) → Monday
        ("2026-04-01T10:00:00+02:00", cph(2026, 4, 7, 8), date(2026, 4, 15)),  # before Easter
        (
            "2026-05-13T10:00:00+02:00",
            cph(2026, 5, 15, 8),
            date(2026, 5, 26),
        ),  # before Ascension; + 8 = Whit Sat
        ("2026-12-23T10:00:00+01:00", cph(2026, 12, 28, 8), date(2027, 1, 5)),  # before Christmas
    ],
)
def test_hearing_letter_slot_and_deadline(absence: str, letter_at: datetime, last_day: date) -> None:
    d = driver(absence)
    d.run(letter_at + timedelta(hours=1))
    sent = d.first(plan.SendHearingLetters)
    assert sent.at == letter_at
    assert sent.action == plan.SendHearingLetters(letter_at.date())
    assert d.state.hearing_sent_at == letter_at
    assert d.state.deadline_last_day == last_day
    assert d.state.deadline_ends_at == CAL.at(last_day + timedelta(days=1), datetime.min.time())
    assert CAL.is_working_day(sent.at.date())


# -- jobparat: the whole case --------------------------------------------------------------------------------
def test_jobparat_whole_case_with_sanction() -> None:
    d = driver(caseworker=Caseworker(decision="sanction"))
    assert d.state.stage() == Stage.hearing

    wait = d.run(cph(2026, 3, 5, 12, 0))
    assert d.state.stage() == Stage.awaiting_answer
    assert wait == plan.Wait(cph(2026, 3, 12, 0, 0), "answer deadline")

    wait = d.run(cph(2026, 3, 20, 12, 0))
    assert wait == plan.Wait(None, "contact restored (the deduction runs until then)")
    assert d.state.stage() == Stage.decided
    assert [(x.at, x.action) for x in d.done] == [
        (cph(2026, 3, 3, 8), plan.SendHearingLetters(date(2026, 3, 3))),
        (cph(2026, 3, 12, 8), plan.OpenTask(TaskKind.decision)),  # right after the deadline
        (cph(2026, 3, 12, 10), plan.SendDecisionLetter("decision")),
        (cph(2026, 3, 12, 10), plan.RegisterDeduction(date(2026, 3, 2), None)),
    ]
    assert d.state.decision is not None
    assert d.state.decision.at == cph(2026, 3, 12, 10)
    assert (d.state.decision.at - d.state.absence_at) == timedelta(days=10)  # typically 10-12 days

    d.contact_restored()  # Friday 20 March 12:00
    assert d.run(LATER) == plan.Wait(None, "case closed")
    assert [(x.at, x.action) for x in d.done[4:]] == [
        (cph(2026, 3, 20, 12), plan.EndDeduction(date(2026, 3, 19))),
        (cph(2026, 3, 20, 12), plan.Close()),
    ]
    assert d.payments == [
        Payment("deduction_start", date(2026, 3, 2), None),
        Payment("deduction_end", date(2026, 3, 2), date(2026, 3, 19)),
    ]
    assert d.state.stage() == Stage.closed
    assert d.steps() == [
        j.CASE_OPENED,
        j.HEARING_LETTER_SENT,
        j.DEADLINE_SET,
        j.DECISION_TASK_OPENED,
        j.DECISION_MADE,
        j.DECISION_LETTER_SENT,
        j.DEDUCTION_REGISTERED,
        j.CONTACT_RESTORED,
        j.DEDUCTION_ENDED,
        j.CASE_CLOSED,
    ]
    deadline = d.entries(j.DEADLINE_SET)[0].details
    assert deadline == {
        "deadline": "2026-03-11",
        "ends_at": "2026-03-12T00:00:00+01:00",
        "delivered_on": "2026-03-03",
    }
    assert d.entries(j.DEDUCTION_REGISTERED)[0].details == {"from": "2026-03-02", "to": None}
    assert d.entries(j.DEDUCTION_ENDED)[0].details == {"from": "2026-03-02", "to": "2026-03-19"}
    assert d.entries(j.CASE_CLOSED)[0].details == {"decision": "sanction"}
    assert_outbound_in_office_hours(d)


@pytest.mark.parametrize("readiness", ["jobparat", "uddannelsesparat"])
def test_ordinary_hearing_opens_the_decision_task_without_contact_attempts(readiness: str) -> None:
    d = driver(readiness=readiness)
    d.run(cph(2026, 3, 13))
    assert kinds(d) == ["SendHearingLetters", "OpenTask"]
    assert d.first(plan.OpenTask).action == plan.OpenTask(TaskKind.decision)
    assert d.state.stage() == Stage.awaiting_decision


@pytest.mark.parametrize(
    ("absence", "task_at"),
    [
        (MONDAY, cph(2026, 3, 12, 8)),  # last day Wed 11 → Thursday 08:00
        ("2026-03-04T10:00:00+01:00", cph(2026, 3, 16, 8)),  # last day Fri 13 → Monday 08:00
        ("2026-03-23T10:00:00+01:00", cph(2026, 4, 7, 8)),  # last day Wed 1 Apr → after Easter, Tue 7 Apr
    ],
)
def test_decision_task_opens_at_the_first_office_hour_after_the_deadline(
    absence: str, task_at: datetime
) -> None:
    d = driver(absence)
    d.run(task_at + timedelta(minutes=1))
    opened = d.first(plan.OpenTask)
    assert opened.at == task_at
    assert d.state.deadline_ends_at is not None
    assert d.state.deadline_ends_at <= opened.at
    assert CAL.next_office_time(d.state.deadline_ends_at) == opened.at


def test_jobparat_no_sanction_closes_after_the_letter_without_payments() -> None:
    d = driver(caseworker=Caseworker(decision="no_sanction_other"))
    assert d.run(LATER) == plan.Wait(None, "case closed")
    assert kinds(d) == ["SendHearingLetters", "OpenTask", "SendDecisionLetter", "Close"]
    assert d.payments == []
    assert d.entries(j.CASE_CLOSED)[0].details == {"decision": "no_sanction_other"}


def test_answer_within_the_deadline_opens_the_decision_task_at_once() -> None:
    d = driver()
    d.run(cph(2026, 3, 5, 11, 0))
    d.respond(channel="digital_post", explanation="I was in hospital", reasonable_cause="hospitalised")
    d.run(cph(2026, 3, 5, 12, 0))
    assert d.done[-1].action == plan.OpenTask(TaskKind.decision)
    assert d.done[-1].at == cph(2026, 3, 5, 11, 0)
    assert d.state.contact is not None
    assert d.state.contact.via == "digital_post"
    # deciding before the deadline is fine now that the citizen has answered
    d.complete_task(TaskKind.decision, "no_sanction_reasonable_cause")
    d.run(LATER)
    assert kinds(d) == ["SendHearingLetters", "OpenTask", "SendDecisionLetter", "Close"]
    assert d.state.decision is not None
    assert d.state.decision.at < d.state.deadline_ends_at  # type: ignore[operator]
    assert "hospitalised" in str(d.entries(j.RESPONSE_RECEIVED)[0].details)


def test_answer_on_a_saturday_night_opens_the_decision_task_on_monday_morning() -> None:
    d = driver()
    d.run(cph(2026, 3, 7, 22, 0))
    d.respond(channel="email")
    wait = d.run(cph(2026, 3, 9, 7, 59))
    assert wait == plan.Wait(cph(2026, 3, 9, 8, 0), "office hours for the decision task")
    d.run(cph(2026, 3, 9, 9, 0))
    assert d.done[-1].at == cph(2026, 3, 9, 8, 0)
    assert d.done[-1].action == plan.OpenTask(TaskKind.decision)


def test_attendance_before_the_decision_ends_the_deduction_it_leads_to() -> None:
    d = driver(caseworker=Caseworker(decision="sanction"))
    d.run(cph(2026, 3, 9, 10, 0))
    d.attend(explanation=None)  # turned up at the jobcenter on Monday 9 March
    d.run(LATER)
    assert d.payments == [Payment("deduction_start", date(2026, 3, 2), date(2026, 3, 8))]
    assert d.entries(j.DEDUCTION_REGISTERED)[0].details == {"from": "2026-03-02", "to": "2026-03-08"}
    assert not d.actions(plan.EndDeduction)
    assert d.state.closed


def test_a_decision_before_the_deadline_is_refused_and_documented() -> None:
    d = driver()
    d.run(cph(2026, 3, 6, 10, 0))
    with pytest.raises(Refused) as info:
        d.complete_task(TaskKind.decision, "sanction", by="cw-3")
    assert info.value.kind == "DecisionRefused"
    assert "deadline has not passed (last day 2026-03-11)" in info.value.reason
    rejected = d.entries(j.DECISION_REJECTED)
    assert len(rejected) == 1
    assert rejected[0].details["decision"] == "sanction"
    assert rejected[0].details["by"] == "cw-3"
    assert rejected[0].details["reason"] == info.value.reason
    assert d.state.decision is None
    d.run(cph(2026, 3, 13))
    assert d.first(plan.OpenTask).at == cph(2026, 3, 12, 8)  # the case goes on as before


def test_decision_letter_waits_for_office_hours() -> None:
    d = driver()
    d.run(cph(2026, 3, 13, 16, 30))  # decision task open since Thursday; Friday after closing
    d.complete_task(TaskKind.decision, "sanction")
    wait = d.run(cph(2026, 3, 15, 12, 0))
    assert wait == plan.Wait(cph(2026, 3, 16, 8, 0), "office hours for the decision letter")
    assert not d.actions(plan.RegisterDeduction)  # payments hear of it only after the letter
    d.run(cph(2026, 3, 16, 9, 0))
    assert [(x.at, type(x.action).__name__) for x in d.done[-2:]] == [
        (cph(2026, 3, 16, 8), "SendDecisionLetter"),
        (cph(2026, 3, 16, 8), "RegisterDeduction"),
    ]


def test_duplicate_events_and_tasks_that_are_not_open_are_refused() -> None:
    d = driver(readiness="aktivitetsparat")
    d.run(cph(2026, 3, 4))
    d.respond(event_id="r-dup")
    with pytest.raises(Refused, match="DuplicateEvent"):
        d.respond(event_id="r-dup")
    with pytest.raises(Refused) as info:
        d.complete_task(TaskKind.home_visit, "no_contact")
    assert info.value.kind == "TaskNotOpen"
    assert info.value.reason == "no home_visit task is open for this case (open tasks: none)"


def test_a_closed_case_refuses_further_events() -> None:
    d = driver(caseworker=Caseworker(decision="no_sanction_other"))
    d.run(LATER)
    assert d.state.closed
    with pytest.raises(Refused, match="CaseClosed"):
        d.attend()
    assert plan.next_action(d.state, POLICY, CAL, LATER) == plan.Wait(None, "case closed")


# -- aktivitetsparat: the contact ladder ---------------------------------------------------------------------
def expected_ladder(policy: Policy, roles_asked: list[str]) -> list[plan.Action]:
    """What the policy's ladder should produce, in order, for a citizen with every channel."""
    actions: list[plan.Action] = []
    for step in policy.ladder:
        n = step.attempts
        match step.kind:
            case LadderStepKind.inbound_check:
                actions += [plan.CheckInbound()] * n
            case LadderStepKind.phone_call:
                actions += [plan.OpenTask(TaskKind.phone_call, i) for i in range(1, n + 1)]
            case LadderStepKind.nemsms:
                actions += [plan.SendSms(i) for i in range(1, n + 1)]
            case LadderStepKind.email:
                actions += [plan.SendEmail(i) for i in range(1, n + 1)]
            case LadderStepKind.representative:
                actions += [
                    plan.OpenTask(TaskKind.representative, i, role)
                    for i, role in enumerate(roles_asked[:n], start=1)
                ]
            case LadderStepKind.home_visit:
                actions += [plan.OpenTask(TaskKind.home_visit, i) for i in range(1, n + 1)]
    return actions


@pytest.mark.parametrize(
    "snap", [pinned_snapshot(), default_snapshot()], ids=["pinned", "config-policy-toml"]
)
def test_aktivitetsparat_walks_the_full_ladder_in_the_policy_order(snap: PolicySnapshot) -> None:
    d = driver(readiness="aktivitetsparat", representatives=ALL_REPS, caseworker=Caseworker(), snap=snap)
    d.run(LATER)
    ladder = [x.action for x in d.done if not isinstance(x.action, plan.SendHearingLetters | plan.SendDeadlineReminder)]
    policy = d.policy
    expected = expected_ladder(policy, ["mentor", "stoettekontaktperson", "social_services"])
    assert ladder[: len(expected)] == expected
    assert ladder[len(expected)] == plan.OpenTask(TaskKind.decision)
    assert ladder[len(expected) + 1 :] == [
        plan.SendDecisionLetter("decision"),
        plan.RegisterDeduction(date(2026, 3, 2), None),
    ]
    # documented: how, when and how many times
    assert len(d.entries(j.INBOUND_CONTACT_CHECKED)) == 1
    phone_attempts = next(s.attempts for s in policy.ladder if s.kind == LadderStepKind.phone_call)
    assert [e.details["attempt"] for e in d.entries(j.PHONE_CALL)] == list(range(1, phone_attempts + 1))
    assert [e.details["number"] for e in d.entries(j.SMS_SENT)] == [1, 2, 3]
    assert [e.details["number"] for e in d.entries(j.EMAIL_SENT)] == [1]
    assert [e.details["role"] for e in d.entries(j.REPRESENTATIVE_CONTACTED)] == [
        "mentor",
        "stoettekontaktperson",
        "social_services",
    ]  # never the family member
    assert [e.details["outcome"] for e in d.entries(j.HOME_VISIT)] == ["no_contact"]
    assert d.state.home_visits == 1
    assert d.refusals == []
    assert_outbound_in_office_hours(d)


def test_aktivitetsparat_ladder_timing_with_the_pinned_policy() -> None:
    d = driver(readiness="aktivitetsparat", representatives=ALL_REPS[:3], caseworker=Caseworker(hours=2))
    wait = d.run(cph(2026, 3, 12, 0, 0))  # the deadline has just ended, the office is closed
    assert wait == plan.Wait(cph(2026, 3, 12, 8, 0), "office hours for the next contact attempt")
    assert d.state.stage() == Stage.awaiting_answer
    d.run(LATER)
    assert [(x.at, x.action) for x in d.done] == [
        (cph(2026, 3, 3, 8), plan.SendHearingLetters(date(2026, 3, 3))),
        (cph(2026, 3, 12, 8), plan.CheckInbound()),
        (cph(2026, 3, 12, 8), plan.OpenTask(TaskKind.phone_call, 1)),
        (cph(2026, 3, 12, 13, 30), plan.OpenTask(TaskKind.phone_call, 2)),  # done 10:00 + 3.5 h to call back
        (cph(2026, 3, 13, 12), plan.SendSms(1)),  # call done Fri 08:30 + 3.5 h
        (cph(2026, 3, 16, 12), plan.SendSms(2)),  # + 7 working hours, over the weekend
        (cph(2026, 3, 17, 12), plan.SendSms(3)),
        (cph(2026, 3, 18, 12), plan.SendEmail(1)),
        (cph(2026, 3, 19, 12), plan.OpenTask(TaskKind.representative, 1, "mentor")),
        (cph(2026, 3, 20, 14), plan.OpenTask(TaskKind.representative, 2, "stoettekontaktperson")),
        (cph(2026, 3, 24, 9), plan.OpenTask(TaskKind.representative, 3, "social_services")),
        (cph(2026, 3, 25, 11), plan.OpenTask(TaskKind.home_visit, 1)),
        (cph(2026, 3, 25, 13), plan.OpenTask(TaskKind.decision)),
        (cph(2026, 3, 26, 8), plan.SendDecisionLetter("decision")),  # decided at 15:00: letter next morning
        (cph(2026, 3, 26, 8), plan.RegisterDeduction(date(2026, 3, 2), None)),
    ]


def test_ladder_stage_is_contacting_and_waits_for_open_tasks() -> None:
    d = driver(readiness="aktivitetsparat")  # no caseworker: tasks stay open
    wait = d.run(cph(2026, 3, 18, 9, 0))
    assert d.state.stage() == Stage.contacting
    assert wait.reason == "phone_call task to be completed"
    assert wait.until == plan.alarm_at(d.state, POLICY, CAL)  # escalated all the way: only the 3-month alarm is left
    assert [t.kind for t in d.state.open_tasks] == [TaskKind.phone_call]


def test_an_overdue_task_reminds_its_assignee_then_tells_the_team_lead() -> None:
    d = driver(readiness="aktivitetsparat")  # no caseworker: the phone call is never made
    d.run(cph(2026, 3, 12, 8, 0))
    task = d.state.open_tasks[0]
    assert task.kind == TaskKind.phone_call and task.due_at is not None
    assert task.due_at == CAL.add_working_hours(task.opened_at, POLICY.tasks.due_hours(TaskKind.phone_call))
    wait = d.run(task.due_at - timedelta(minutes=1))
    assert wait.until == task.due_at and "escalation" in wait.reason
    d.run(cph(2026, 3, 20, 9, 0))
    escalations = d.entries(j.TASK_ESCALATED)
    assert [(e.details["to"], e.at) for e in escalations] == [
        ("assignee", task.due_at),
        ("team_lead", CAL.add_working_hours(task.due_at, 7)),
    ]
    assert all(e.details["task"] == "phone_call" for e in escalations)
    assert sum(isinstance(x.action, plan.EscalateTask) for x in d.done) == 2  # never a third time


def test_a_task_done_in_time_never_escalates() -> None:
    d = driver(readiness="aktivitetsparat", caseworker=Caseworker(hours=2))
    d.run(LATER)
    assert d.entries(j.TASK_ESCALATED) == []
    assert d.state.decision is not None and d.state.home_visits == 1


def test_tasks_without_a_due_time_never_escalate() -> None:
    """Tasks opened before due times existed (the workflow's patch returned False) keep waiting as before."""
    d = driver(readiness="aktivitetsparat")
    d.run(cph(2026, 3, 12, 8, 0))
    d.state.open_tasks[0].due_at = None
    wait = d.run(cph(2026, 3, 20, 9, 0))
    assert d.entries(j.TASK_ESCALATED) == []
    assert wait.reason == "phone_call task to be completed"


def test_escalation_steps_come_from_the_policy() -> None:
    policy = pinned_policy(tasks=TaskPolicy(due_working_hours=3.5, escalation=(
        EscalationStep(after_overdue_working_hours=0, to="team_lead"),)))
    d = driver(readiness="aktivitetsparat", snap=snapshot_of(policy))
    d.run(cph(2026, 3, 20, 9, 0))
    escalations = d.entries(j.TASK_ESCALATED)
    assert [e.details["to"] for e in escalations] == ["team_lead"]
    task = d.state.open_tasks[0]
    assert escalations[0].at == CAL.add_working_hours(task.opened_at, 3.5)


def test_escalation_steps_must_be_in_order() -> None:
    with pytest.raises(ValueError, match="in order"):
        TaskPolicy(escalation=(EscalationStep(after_overdue_working_hours=7), EscalationStep()))


def test_the_decision_task_does_not_open_before_the_home_visit() -> None:
    d = driver(readiness="aktivitetsparat", caseworker=Caseworker())
    d.run(LATER)
    opened = [x for x in d.done if isinstance(x.action, plan.OpenTask)]
    decision_index = next(i for i, x in enumerate(opened) if x.action.kind == TaskKind.decision)  # type: ignore[union-attr]
    assert opened[decision_index - 1].action == plan.OpenTask(TaskKind.home_visit, 1)


def test_more_home_visits_when_the_policy_asks_for_them() -> None:
    policy = pinned_policy(
        ladder=[{"kind": "inbound_check"}, {"kind": "home_visit", "attempts": 2, "wait_hours": 7}],
        min_home_visits=2,
    )
    d = driver(readiness="aktivitetsparat", caseworker=Caseworker(), snap=snapshot_of(policy))
    d.run(LATER)
    assert [x.action for x in d.done][1:5] == [
        plan.CheckInbound(),
        plan.OpenTask(TaskKind.home_visit, 1),
        plan.OpenTask(TaskKind.home_visit, 2),
        plan.OpenTask(TaskKind.decision),
    ]
    assert d.state.home_visits == 2


# -- skipping rungs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("citizen", "skipped", "reason"),
    [
        ({"phone": None}, LadderStepKind.phone_call, "no phone number on file"),
        ({"nemsms": False}, LadderStepKind.nemsms, "not registered for NemSMS"),
        ({"email": None}, LadderStepKind.email, "no e-mail address on file"),
        (
            {"representatives": []},
            LadderStepKind.representative,
            "no mentor, støttekontaktperson or social services contact on file",
        ),
        (
            {"representatives": [representative_data("family"), representative_data("vaerge")]},
            LadderStepKind.representative,
            "no mentor, støttekontaktperson or social services contact on file",
        ),
    ],
)
def test_a_rung_that_cannot_apply_is_skipped_and_journaled(
    citizen: dict[str, object], skipped: LadderStepKind, reason: str
) -> None:
    details: dict[str, Any] = {"representatives": ALL_REPS[:1]} | citizen
    d = driver(readiness="aktivitetsparat", caseworker=Caseworker(), **details)
    d.run(LATER)
    skips = d.actions(plan.SkipRung)
    assert [x.action for x in skips] == [plan.SkipRung(skipped, reason)]
    entries = d.entries(j.LADDER_STEP_SKIPPED)
    assert [e.details for e in entries] == [{"rung": skipped.value, "reason": reason}]
    assert entries[0].at == skips[0].at
    assert d.cal.is_office_time(skips[0].at)
    done = [x.action for x in d.done]
    if skipped == LadderStepKind.phone_call:
        assert not any(isinstance(a, plan.OpenTask) and a.kind == TaskKind.phone_call for a in done)
    if skipped == LadderStepKind.nemsms:
        assert not d.actions(plan.SendSms)
    if skipped == LadderStepKind.email:
        assert not d.actions(plan.SendEmail)
    if skipped == LadderStepKind.representative:
        assert not any(isinstance(a, plan.OpenTask) and a.kind == TaskKind.representative for a in done)
    assert plan.OpenTask(TaskKind.home_visit, 1) in done  # the home visit is never skipped
    assert plan.OpenTask(TaskKind.decision) in done


def test_a_citizen_reachable_only_at_home() -> None:
    d = driver(readiness="aktivitetsparat", phone=None, nemsms=False, email=None, caseworker=Caseworker())
    d.run(LATER)
    ladder = [x.action for x in d.done][1:8]
    assert ladder == [
        plan.CheckInbound(),
        plan.SkipRung(LadderStepKind.phone_call, "no phone number on file"),
        plan.SkipRung(LadderStepKind.nemsms, "not registered for NemSMS"),
        plan.SkipRung(LadderStepKind.email, "no e-mail address on file"),
        plan.SkipRung(
            LadderStepKind.representative, "no mentor, støttekontaktperson or social services contact on file"
        ),
        plan.OpenTask(TaskKind.home_visit, 1),
        plan.OpenTask(TaskKind.decision),
    ]
    assert len(d.entries(j.LADDER_STEP_SKIPPED)) == 4
    assert d.first(plan.OpenTask).at == cph(2026, 3, 12, 8)  # skipping costs no waiting time
    assert "ladder_step_skipped" in "\n".join(d.state.contact_log())


def test_fewer_representatives_than_attempts_asks_each_once() -> None:
    d = driver(
        readiness="aktivitetsparat",
        caseworker=Caseworker(),
        representatives=[representative_data("social_services"), representative_data("family")],
    )
    d.run(LATER)
    reps = [
        x.action
        for x in d.done
        if isinstance(x.action, plan.OpenTask) and x.action.kind == TaskKind.representative
    ]
    assert reps == [plan.OpenTask(TaskKind.representative, 1, "social_services")]


# -- contact made mid-ladder ---------------------------------------------------------------------------------
def test_contact_while_a_phone_task_is_open_cancels_it_and_opens_the_decision_task() -> None:
    d = driver(readiness="aktivitetsparat")
    d.run(cph(2026, 3, 12, 9, 0))
    assert [t.kind for t in d.state.open_tasks] == [TaskKind.phone_call]
    d.respond(channel="phone", explanation="I was ill")  # the citizen calls in
    d.run(cph(2026, 3, 12, 9, 30))
    assert [x.action for x in d.done[-2:]] == [
        plan.CancelTasks((TaskKind.phone_call,), "contact made"),
        plan.OpenTask(TaskKind.decision),
    ]
    assert [t.kind for t in d.state.open_tasks] == [TaskKind.decision]
    assert d.entries(j.TASK_CANCELLED)[0].details == {"task": "phone_call", "reason": "contact made"}
    assert d.entries(j.CONTACT_MADE)[0].details == {"via": "phone"}
    # the caseworker's late report on the withdrawn task is refused
    with pytest.raises(Refused, match="TaskNotOpen"):
        d.complete_task(TaskKind.phone_call, "no_answer")
    # contact made: a sanction is lawful without the rest of the ladder
    d.complete_task(TaskKind.decision, "sanction")
    d.run(LATER)
    assert not d.actions(plan.SendSms)
    assert not any(
        isinstance(x.action, plan.OpenTask) and x.action.kind == TaskKind.home_visit for x in d.done
    )


def test_contact_during_the_nemsms_rung_stops_further_messages() -> None:
    d = driver(readiness="aktivitetsparat", caseworker=Caseworker())
    d.run(cph(2026, 3, 16, 13, 0))  # after the second NemSMS
    assert len(d.actions(plan.SendSms)) == 2
    d.attend(explanation="crisis at social services")
    d.run(LATER)
    assert len(d.actions(plan.SendSms)) == 2
    assert not d.actions(plan.SendEmail)
    assert d.first(plan.OpenTask).action == plan.OpenTask(TaskKind.phone_call, 1)
    opened_after = [x for x in d.done if x.at >= cph(2026, 3, 16, 13, 0)]
    assert opened_after[0].action == plan.OpenTask(TaskKind.decision)
    assert opened_after[0].at == cph(2026, 3, 16, 13, 0)


@pytest.mark.parametrize(
    ("task", "outcome", "via"),
    [
        (TaskKind.phone_call, "reached", "phone_call"),
        (TaskKind.representative, "contact_made", "representative:mentor"),
        (TaskKind.home_visit, "contact_made", "home_visit"),
    ],
)
def test_contact_made_by_a_task_opens_the_decision_task(task: TaskKind, outcome: str, via: str) -> None:
    d = driver(
        readiness="aktivitetsparat",
        representatives=ALL_REPS[:1],
        caseworker=Caseworker(outcomes={task: [outcome]}),
    )
    d.run(LATER)
    assert d.entries(j.CONTACT_MADE)[0].details == {"via": via}
    opened = [x.action for x in d.done if isinstance(x.action, plan.OpenTask)]
    assert opened[-1] == plan.OpenTask(TaskKind.decision)
    assert opened[-2].kind == task  # type: ignore[union-attr]
    assert d.refusals == []  # the sanction after contact is lawful
    assert d.state.decision is not None


def test_inbound_check_finding_contact_ends_the_ladder() -> None:
    d = driver(
        readiness="aktivitetsparat", inbound=InboundResult(True, "supplier_report", "attended the offer")
    )
    d.run(cph(2026, 3, 12, 9, 0))
    assert [x.action for x in d.done] == [
        plan.SendHearingLetters(date(2026, 3, 3)),
        plan.CheckInbound(),
        plan.OpenTask(TaskKind.decision),
    ]
    assert d.entries(j.INBOUND_CONTACT_CHECKED)[0].details == {
        "found": True,
        "via": "supplier_report",
        "note": "attended the offer",
    }
    assert d.state.contact is not None
    assert d.state.contact.via == "supplier_report"


def test_contact_outside_office_hours_cancels_at_once_and_opens_the_decision_task_next_morning() -> None:
    d = driver(readiness="aktivitetsparat")
    d.run(cph(2026, 3, 12, 19, 0))
    d.respond(channel="email")
    wait = d.run(cph(2026, 3, 12, 20, 0))
    assert d.done[-1].action == plan.CancelTasks((TaskKind.phone_call,), "contact made")
    assert d.done[-1].at == cph(2026, 3, 12, 19, 0)
    assert wait == plan.Wait(cph(2026, 3, 13, 8, 0), "office hours for the decision task")


@pytest.mark.parametrize("outcome", ["voicemail", "no_answer"])
def test_a_call_that_does_not_reach_the_citizen_is_no_contact(outcome: str) -> None:
    d = driver(readiness="aktivitetsparat", caseworker=Caseworker(outcomes={TaskKind.phone_call: [outcome]}))
    d.run(cph(2026, 3, 12, 14))
    assert d.state.contact is None
    assert [e.details["outcome"] for e in d.entries(j.PHONE_CALL)] == [outcome]
    assert d.actions(plan.OpenTask)[-1].action == plan.OpenTask(TaskKind.phone_call, 2)


def test_a_decision_while_a_ladder_task_is_open_withdraws_the_task_and_closes() -> None:
    d = driver(readiness="aktivitetsparat")
    d.run(cph(2026, 3, 12, 9, 0))
    assert [t.kind for t in d.state.open_tasks] == [TaskKind.phone_call]
    # after the deadline a no-sanction decision needs no exhausted ladder (rules allow it)
    d.complete_task(TaskKind.decision, "no_sanction_other")
    d.run(LATER)
    assert d.state.open_tasks == []
    assert [e.details["task"] for e in d.entries(j.TASK_CANCELLED)] == ["phone_call"]
    assert d.state.closed


# -- channels ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "channels", "delivered", "last_day"),
    [
        ("registered", ["digital_post"], "2026-03-03", date(2026, 3, 11)),
        ("exempt", ["physical_post"], "2026-03-06", date(2026, 3, 16)),  # paper: 3 working days later
        ("never_logged_in", ["digital_post", "physical_post"], "2026-03-06", date(2026, 3, 16)),
    ],
)
def test_hearing_channels_and_deadline_from_delivery(
    status: str, channels: list[str], delivered: str, last_day: date
) -> None:
    d = driver(digital_post=status, caseworker=Caseworker(decision="no_sanction_other"))
    d.run(LATER)
    hearing = [x for x in d.letters if x.kind == "hearing"]
    assert [x.channel for x in hearing] == channels
    assert all(x.to == "citizen" and x.deadline == last_day for x in hearing)
    assert [x.digital_post_guidance for x in hearing] == [
        c == "physical_post" and status == "never_logged_in" for c in channels
    ]
    assert d.entries(j.DEADLINE_SET)[0].details["delivered_on"] == delivered
    assert d.state.deadline_last_day == last_day
    decision_task = d.first(plan.OpenTask)
    assert decision_task.at == CAL.next_office_time(CAL.at(last_day + timedelta(days=1), datetime.min.time()))
    # decision letters go the same way
    assert [x.channel for x in d.letters if x.kind == "decision"] == channels
    assert [e.details["channel"] for e in d.entries(j.HEARING_LETTER_SENT)] == channels


def test_citizen_channels() -> None:
    assert plan.citizen_channels(make_state(digital_post="registered")) == ["digital_post"]
    assert plan.citizen_channels(make_state(digital_post="exempt")) == ["physical_post"]
    assert plan.citizen_channels(make_state(digital_post="never_logged_in")) == [
        "digital_post",
        "physical_post",
    ]


@pytest.mark.parametrize(
    ("address", "email", "channel"),
    [
        ("Vej 1", "a@example.dk", "physical_post"),
        ("Vej 1", None, "physical_post"),
        (None, "a@example.dk", "email"),
        (None, None, "caseworker"),
    ],
)
def test_copy_channel(address: str | None, email: str | None, channel: str) -> None:
    assert plan.copy_channel(address, email) == channel


def test_every_representative_gets_a_copy_by_their_channel() -> None:
    d = driver(readiness="aktivitetsparat", representatives=ALL_REPS, caseworker=Caseworker())
    d.run(LATER)
    copies = [(x.to, x.channel) for x in d.letters if x.kind == "hearing" and x.to != "citizen"]
    assert copies == [
        ("mentor", "caseworker"),
        ("stoettekontaktperson", "email"),
        ("social_services", "physical_post"),
        ("family", "physical_post"),
    ]
    assert [(e.details["to"], e.details["channel"]) for e in d.entries(j.HEARING_LETTER_SENT)] == [
        ("citizen", "digital_post"),
        *copies,
    ]
    assert [e.details for e in d.entries(j.LETTER_COPY_NEEDS_CASEWORKER)] == [
        {"to": "mentor", "reason": "no address or e-mail on file"}
    ]
    # the hand-forwarded copy is a warning sign on the decision task
    opened = d.entries(j.DECISION_TASK_OPENED)[0]
    assert opened.details["warning_signs"] == ["a representative's copy had to be forwarded by hand"]
    decision_copies = [(x.to, x.channel) for x in d.letters if x.kind == "decision" and x.to != "citizen"]
    assert decision_copies == copies


def test_warning_signs_on_the_decision_task() -> None:
    d = driver(digital_post="never_logged_in", guidance_given_on=None)
    d.run(cph(2026, 3, 18))
    assert d.entries(j.DECISION_TASK_OPENED)[0].details["warning_signs"] == [
        "the citizen has never logged into Digital Post (auto-enrolled?)",
        "no written guidance on duties and sanctions on file (LAS § 35)",
    ]


# -- office hours --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "scenario",
    ["jobparat", "aktivitetsparat", "never_logged_in", "late_caseworker", "reassessment", "christmas"],
)
def test_outbound_actions_only_inside_office_hours_on_working_days(scenario: str) -> None:
    if scenario == "jobparat":
        d = driver(caseworker=Caseworker())
        d.run(cph(2026, 3, 20, 11))
        d.contact_restored()
    elif scenario == "aktivitetsparat":
        d = driver(readiness="aktivitetsparat", representatives=ALL_REPS, caseworker=Caseworker(hours=5))
    elif scenario == "never_logged_in":
        d = driver(
            "2026-03-27T09:00:00+01:00",
            digital_post="never_logged_in",
            readiness="aktivitetsparat",
            caseworker=Caseworker(hours=6.5),
        )
    elif scenario == "late_caseworker":
        d = driver()
        d.run(cph(2026, 3, 13, 21, 45))  # Friday night
        d.complete_task(TaskKind.decision, "sanction")
        d.run(cph(2026, 3, 14, 23))  # Saturday night
        d.attend(explanation="I moved and lost my mail")
    elif scenario == "reassessment":
        d = driver(caseworker=Caseworker(reassessment="uphold"))
        d.run(cph(2026, 3, 21, 3))  # Saturday night
        d.respond(explanation="new information")
    else:
        d = driver("2026-12-16T10:00:00+01:00", readiness="aktivitetsparat", caseworker=Caseworker(hours=3))
    d.run(cph(2027, 6, 1))
    assert d.actions(OUTBOUND)
    assert_outbound_in_office_hours(d)


def test_ladder_attempts_wait_for_office_hours() -> None:
    state = make_state(MONDAY, readiness="aktivitetsparat")
    delivered, deadline = plan.hearing_deadline(POLICY, CAL, cph(2026, 3, 3, 8), ["digital_post"])
    plan.record_hearing(state, cph(2026, 3, 3, 8), delivered, deadline)
    saturday = cph(2026, 3, 14, 10)
    action = plan.next_action(state, POLICY, CAL, saturday)
    assert action == plan.Wait(cph(2026, 3, 16, 8), "office hours for the next contact attempt")
    assert plan.next_action(state, POLICY, CAL, cph(2026, 3, 16, 8)) == plan.CheckInbound()


# -- the 3-month alarm ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("absence", "limit"),
    [(MONDAY, date(2026, 6, 30)), ("2026-12-10T10:00:00+01:00", date(2027, 3, 31))],
)
def test_deduction_limit_and_alarm_time(absence: str, limit: date) -> None:
    state = make_state(absence)
    assert plan.deduction_limit(state, POLICY, CAL) == limit
    assert plan.alarm_at(state, POLICY, CAL) == CAL.at(limit - timedelta(days=14), CAL.opens)


@pytest.mark.parametrize(
    ("absence", "alarm_at", "limit"),
    [
        (MONDAY, cph(2026, 6, 16, 8), date(2026, 6, 30)),
        ("2026-12-10T10:00:00+01:00", cph(2027, 3, 17, 8), date(2027, 3, 31)),
    ],
)
def test_alarm_when_no_decision_is_near_the_limit(absence: str, alarm_at: datetime, limit: date) -> None:
    d = driver(absence)  # the decision task is never completed
    d.run(alarm_at - timedelta(seconds=1))
    assert not d.actions(plan.RaiseAlarm)
    d.run(CAL.at(limit, CAL.opens) + timedelta(days=30))
    alarms = d.actions(plan.RaiseAlarm)
    assert [(x.at, x.action) for x in alarms] == [(alarm_at, plan.RaiseAlarm(limit))]
    assert d.entries(j.DEDUCTION_LIMIT_ALARM)[0].details == {"limit": limit.isoformat()}
    assert d.state.alarm_raised
    assert d.state.decision is None


def test_alarm_while_the_ladder_is_stuck_on_an_open_task() -> None:
    d = driver(readiness="aktivitetsparat")
    d.run(cph(2026, 7, 1))
    assert [x.action for x in d.actions(plan.RaiseAlarm)] == [plan.RaiseAlarm(date(2026, 6, 30))]
    assert [t.kind for t in d.state.open_tasks] == [TaskKind.phone_call]  # still waiting for the caseworker
    wait = d.waits[-1][1]
    assert wait == plan.Wait(None, "phone_call task to be completed")


def test_no_alarm_once_decided() -> None:
    d = driver(caseworker=Caseworker(decision="sanction"))
    d.run(cph(2026, 8, 1))  # the deduction runs; nobody restores contact
    assert not d.actions(plan.RaiseAlarm)


# -- after the decision: reassessment ------------------------------------------------------------------------
def sanctioned_then_new_information(outcome: str) -> CaseDriver:
    d = driver(caseworker=Caseworker(decision="sanction", reassessment=outcome))
    d.run(cph(2026, 3, 16, 9, 0))
    assert d.state.deduction_registered
    d.respond(channel="letter", explanation="I was in hospital", reasonable_cause="hospitalised")
    return d


def test_new_information_after_a_sanction_opens_a_reassessment_task() -> None:
    d = sanctioned_then_new_information("uphold")
    d.caseworker = None  # keep the task open to look at it
    d.run(cph(2026, 3, 16, 9, 30))
    assert d.state.new_information_pending
    assert [x.action for x in d.done[-2:]] == [
        plan.EndDeduction(date(2026, 3, 15)),
        plan.OpenTask(TaskKind.reassessment),
    ]
    assert d.state.stage() == Stage.reassessment
    assert len(d.entries(j.REASSESSMENT_TASK_OPENED)) == 1


def test_reassessment_upheld_sends_a_letter_and_closes() -> None:
    d = sanctioned_then_new_information("uphold")
    d.run(LATER)
    tail = [x.action for x in d.done[4:]]
    assert tail == [
        plan.EndDeduction(date(2026, 3, 15)),
        plan.OpenTask(TaskKind.reassessment),
        plan.SendDecisionLetter("reassessment", 1),
        plan.Close(),
    ]
    assert [p.kind for p in d.payments] == ["deduction_start", "deduction_end"]
    assert d.entries(j.REASSESSMENT_MADE)[0].details["outcome"] == "uphold"
    assert not d.entries(j.SANCTION_ANNULLED)


def test_reassessment_annulled_reverses_the_deduction_then_closes() -> None:
    d = sanctioned_then_new_information("annul")
    d.run(LATER)
    tail = [x.action for x in d.done[4:]]
    assert tail == [
        plan.EndDeduction(date(2026, 3, 15)),
        plan.OpenTask(TaskKind.reassessment),
        plan.SendDecisionLetter("reassessment", 1),
        plan.ReverseDeduction(),
        plan.Close(),
    ]
    assert [p.kind for p in d.payments] == ["deduction_start", "deduction_end", "reversal"]
    assert len(d.entries(j.SANCTION_ANNULLED)) == 1


def test_annulling_a_sanction_registered_with_an_end_day_reverses_it() -> None:
    d = driver()
    d.run(cph(2026, 3, 9, 10))
    d.attend()  # turned up on Monday 9 March: contact, and available again
    d.run(cph(2026, 3, 9, 16))
    d.complete_task(TaskKind.decision, "sanction")  # after closing: the letter waits for the morning
    d.run(cph(2026, 3, 9, 20))
    d.respond(explanation="I was in hospital", reasonable_cause="hospitalised")  # new information
    d.caseworker = Caseworker(reassessment="annul")
    d.run(LATER)
    assert d.payments[0] == Payment("deduction_start", date(2026, 3, 2), date(2026, 3, 8))
    assert plan.OpenTask(TaskKind.reassessment) in [x.action for x in d.done]
    assert d.entries(j.REASSESSMENT_MADE)[0].details["outcome"] == "annul"
    assert [p.kind for p in d.payments] == ["deduction_start", "reversal"]


def test_reassessment_after_attendance_with_an_explanation() -> None:
    d = driver(caseworker=Caseworker(decision="sanction", reassessment="uphold"))
    d.run(cph(2026, 3, 18, 10))
    d.attend(explanation="I could not read my Digital Post")
    d.run(LATER)
    assert plan.OpenTask(TaskKind.reassessment) in [x.action for x in d.done]
    assert d.payments[-1] == Payment("deduction_end", date(2026, 3, 2), date(2026, 3, 17))
    assert d.state.closed


def test_contact_restored_without_new_information_does_not_reopen() -> None:
    d = driver(caseworker=Caseworker(decision="sanction"))
    d.run(cph(2026, 3, 18, 10))
    d.contact_restored()
    d.run(LATER)
    assert not any(
        isinstance(x.action, plan.OpenTask) and x.action.kind == TaskKind.reassessment for x in d.done
    )


# -- the local day of the absence ----------------------------------------------------------------------------
def test_deduction_starts_on_the_local_day_of_the_absence() -> None:
    # 00:30 on Tuesday 3 March in Copenhagen, as a UTC timestamp
    d = driver("2026-03-02T23:30:00+00:00", caseworker=Caseworker(decision="sanction"))
    d.run(cph(2026, 4, 1))
    assert d.first(plan.SendHearingLetters).at == cph(2026, 3, 4, 8)  # the calendar uses the local day ...
    assert d.first(plan.RegisterDeduction).action == plan.RegisterDeduction(
        date(2026, 3, 3), None
    )  # ... and so should this


# -- recording helpers ---------------------------------------------------------------------------------------
def test_after_attempt_moves_through_a_rung_and_sets_the_reaction_time() -> None:
    state = make_state(readiness="aktivitetsparat")
    state.ladder_rung = 1  # phone_call: 2 attempts, 3.5 h
    now = cph(2026, 3, 12, 14)
    plan.after_attempt(state, POLICY, CAL, now)
    assert (state.ladder_rung, state.ladder_attempt) == (1, 1)
    assert state.ladder_not_before == cph(2026, 3, 13, 10, 30)
    plan.after_attempt(state, POLICY, CAL, now)
    assert (state.ladder_rung, state.ladder_attempt) == (2, 0)


def test_after_attempt_without_wait_clears_the_reaction_time() -> None:
    state = make_state(readiness="aktivitetsparat")
    state.ladder_not_before = cph(2026, 3, 1)
    plan.after_attempt(state, POLICY, CAL, cph(2026, 3, 12, 8))  # inbound_check: no wait
    assert (state.ladder_rung, state.ladder_attempt, state.ladder_not_before) == (1, 0, None)


def test_skip_rung_resets_the_attempt() -> None:
    state = make_state(readiness="aktivitetsparat")
    state.ladder_rung, state.ladder_attempt = 2, 1
    plan.skip_rung(
        state, plan.SkipRung(LadderStepKind.nemsms, "not registered for NemSMS"), cph(2026, 3, 12, 9)
    )
    assert (state.ladder_rung, state.ladder_attempt) == (3, 0)
    assert state.journal[-1].step == j.LADDER_STEP_SKIPPED


def test_rung_attempts_for_representatives_is_capped_by_who_is_on_file() -> None:
    state = make_state(
        readiness="aktivitetsparat",
        representatives=[representative_data("mentor"), representative_data("family")],
    )
    state.ladder_rung = 4
    assert plan.rung_attempts(state, POLICY) == 1
    state.ladder_rung = 2
    assert plan.rung_attempts(state, POLICY) == 3


def test_hearing_deadline_from_the_latest_delivery() -> None:
    sent = cph(2026, 3, 27, 9)  # Friday before Easter
    assert plan.hearing_deadline(POLICY, CAL, sent, ["digital_post"]) == (
        date(2026, 3, 27),
        CAL.answer_deadline(date(2026, 3, 27), 8),
    )
    delivered, deadline = plan.hearing_deadline(POLICY, CAL, sent, ["digital_post", "physical_post"])
    assert delivered == date(2026, 4, 1)  # Mon 30, Tue 31, Wed 1
    assert deadline.last_day == date(2026, 4, 9)


def test_deadline_uses_the_policy_days() -> None:
    policy = pinned_policy(answer_deadline_days=14, paper_delivery_working_days=5)
    cal = CAL
    delivered, deadline = plan.hearing_deadline(policy, cal, cph(2026, 3, 3, 8), ["physical_post"])
    assert delivered == date(2026, 3, 10)
    assert deadline.last_day == date(2026, 3, 24)
