"""The rules the system enforces rather than trusts (domain.md § 4): decision_refusal, task_refusal."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from domain import planner as plan
from domain.case import CaseState, DecisionRecord, OpenTask
from domain.events import Decision, TaskKind
from domain.policy import Policy
from domain.rules import decision_refusal, ladder_exhausted, needs_extended_hearing, task_refusal
from tests.factories import CPR, cph, make_state, pinned_calendar, pinned_policy, task_completed

POLICY = pinned_policy()
CAL = pinned_calendar()
ABSENCE = "2026-03-02T10:00:00+01:00"  # Monday
SENT = cph(2026, 3, 3, 8, 0)  # hearing letter: Tuesday 08:00; deadline Wednesday 11 March, ends at midnight
BEFORE_DEADLINE = cph(2026, 3, 11, 23, 59, 59)
DEADLINE_ENDS = cph(2026, 3, 12, 0, 0)
AFTER_DEADLINE = cph(2026, 3, 12, 8, 0)
ALL_DECISIONS = list(Decision)


def heard(state: CaseState, sent_at: datetime = SENT) -> CaseState:
    """Record the hearing letter as the workflow does (Digital Post, delivered the day it is sent)."""
    delivered, deadline = plan.hearing_deadline(POLICY, CAL, sent_at, plan.citizen_channels(state))
    plan.record_hearing(state, sent_at, delivered, deadline)
    return state


CALLED_IN = cph(2026, 3, 5, 10, 0)


def with_contact(state: CaseState, at: datetime = CALLED_IN) -> CaseState:
    state.on_inbound_contact(at, True, "phone", None)
    return state


def exhausted(state: CaseState, policy: Policy = POLICY) -> CaseState:
    state.ladder_rung = len(policy.ladder)
    state.home_visits = policy.min_home_visits
    return state


def decided(state: CaseState, decision: Decision = Decision.sanction) -> CaseState:
    state.decision = DecisionRecord(decision=decision, at=AFTER_DEADLINE, by="cw-17")
    return state


def refusal(
    state: CaseState, decision: Decision, now: datetime = AFTER_DEADLINE, policy: Policy = POLICY
) -> str | None:
    reason = decision_refusal(state, policy, decision, now)
    if reason is not None:
        assert CPR not in reason
        assert state.citizen.name not in reason
    return reason


# -- timing: hearing and deadline ----------------------------------------------------------------------------
@pytest.mark.parametrize("decision", ALL_DECISIONS)
def test_no_decision_before_the_hearing_letter(decision: Decision) -> None:
    reason = refusal(make_state(ABSENCE), decision)
    assert reason is not None
    assert "hearing letter has not been sent" in reason
    assert "forvaltningsloven § 19" in reason


@pytest.mark.parametrize("decision", ALL_DECISIONS)
def test_no_decision_before_the_deadline_without_an_answer(decision: Decision) -> None:
    state = heard(make_state(ABSENCE))
    assert state.deadline_last_day == date(2026, 3, 11)
    reason = refusal(state, decision, now=BEFORE_DEADLINE)
    assert reason == (
        "the answer deadline has not passed (last day 2026-03-11) and the citizen has not answered"
    )


def test_the_deadline_has_passed_at_midnight() -> None:
    state = heard(make_state(ABSENCE))
    assert refusal(state, Decision.sanction, now=DEADLINE_ENDS - timedelta(seconds=1)) is not None
    assert refusal(state, Decision.sanction, now=DEADLINE_ENDS) is None


@pytest.mark.parametrize("readiness", ["jobparat", "uddannelsesparat"])
@pytest.mark.parametrize("decision", ALL_DECISIONS)
def test_after_the_deadline_any_decision_is_allowed_for_ordinary_hearing(
    readiness: str, decision: Decision
) -> None:
    state = heard(make_state(ABSENCE, readiness=readiness))
    assert refusal(state, decision) is None


@pytest.mark.parametrize("decision", ALL_DECISIONS)
def test_an_answer_allows_a_decision_before_the_deadline(decision: Decision) -> None:
    state = with_contact(heard(make_state(ABSENCE)))
    assert refusal(state, decision, now=cph(2026, 3, 5, 11, 0)) is None


def test_an_answer_before_the_hearing_letter_allows_a_decision() -> None:
    state = with_contact(make_state(ABSENCE), at=cph(2026, 3, 2, 13, 0))
    assert state.hearing_sent_at is None
    assert refusal(state, Decision.no_sanction_reasonable_cause, now=cph(2026, 3, 2, 14, 0)) is None


# -- aktivitetsparat: extended hearing -----------------------------------------------------------------------
def test_sanction_for_aktivitetsparat_refused_before_contact_or_exhausted_ladder() -> None:
    state = heard(make_state(ABSENCE, readiness="aktivitetsparat"))
    reason = refusal(state, Decision.sanction)
    assert reason is not None
    assert "no contact with the aktivitetsparat citizen yet" in reason
    assert "rung 1 of 6" in reason
    assert "home visits 0 of 1" in reason
    assert "udvidet partshøring" in reason


def test_sanction_refused_when_all_rungs_done_but_home_visits_short() -> None:
    state = heard(make_state(ABSENCE, readiness="aktivitetsparat"))
    state.ladder_rung = len(POLICY.ladder)
    state.home_visits = 0
    reason = refusal(state, Decision.sanction)
    assert reason is not None
    assert "rung 6 of 6" in reason
    assert "home visits 0 of 1" in reason


def test_sanction_refused_mid_ladder_even_with_a_home_visit() -> None:
    state = heard(make_state(ABSENCE, readiness="aktivitetsparat"))
    state.ladder_rung, state.home_visits = 3, 1
    assert refusal(state, Decision.sanction) is not None


def test_sanction_for_aktivitetsparat_allowed_after_contact() -> None:
    state = with_contact(heard(make_state(ABSENCE, readiness="aktivitetsparat")))
    assert refusal(state, Decision.sanction) is None


def test_sanction_for_aktivitetsparat_allowed_after_the_ladder_with_a_home_visit() -> None:
    state = exhausted(heard(make_state(ABSENCE, readiness="aktivitetsparat")))
    assert ladder_exhausted(state, POLICY)
    assert refusal(state, Decision.sanction) is None


@pytest.mark.parametrize("decision", [Decision.no_sanction_other, Decision.no_sanction_reasonable_cause])
def test_no_sanction_for_aktivitetsparat_needs_no_exhausted_ladder(decision: Decision) -> None:
    state = heard(make_state(ABSENCE, readiness="aktivitetsparat"))
    assert refusal(state, decision) is None


def test_extended_hearing_depends_on_the_policy() -> None:
    state = heard(make_state(ABSENCE, readiness="aktivitetsparat"))
    no_extended = pinned_policy(extended_hearing_for=[])
    assert needs_extended_hearing(state, POLICY)
    assert not needs_extended_hearing(state, no_extended)
    assert refusal(state, Decision.sanction, policy=no_extended) is None


def test_sanction_waits_for_the_ladder_for_every_category_the_policy_extends_the_hearing_to() -> None:
    policy = pinned_policy(extended_hearing_for=["aktivitetsparat", "uddannelsesparat"])
    state = heard(make_state(ABSENCE, readiness="uddannelsesparat"))
    assert needs_extended_hearing(state, policy)
    assert refusal(state, Decision.sanction, policy=policy) is not None


# -- § 35 guidance -------------------------------------------------------------------------------------------
def test_no_sanction_without_guidance_on_file() -> None:
    state = heard(make_state(ABSENCE, guidance_given_on=None))
    reason = refusal(state, Decision.sanction)
    assert reason == "no written guidance on duties and sanctions is on file (LAS § 35 stk. 1)"


@pytest.mark.parametrize("decision", [Decision.no_sanction_other, Decision.no_sanction_reasonable_cause])
def test_no_guidance_does_not_block_a_no_sanction_decision(decision: Decision) -> None:
    state = heard(make_state(ABSENCE, guidance_given_on=None))
    assert refusal(state, decision) is None


def test_guidance_given_after_the_absence_does_not_count() -> None:
    state = heard(make_state(ABSENCE, guidance_given_on="2026-03-03"))
    reason = refusal(state, Decision.sanction)
    assert reason == "the guidance on duties and sanctions (2026-03-03) was given after the absence"


def test_guidance_given_before_the_absence_counts() -> None:
    state = heard(make_state(ABSENCE, guidance_given_on="2026-03-01"))
    assert refusal(state, Decision.sanction) is None


def test_guidance_not_required_by_policy() -> None:
    state = heard(make_state(ABSENCE, guidance_given_on=None))
    assert refusal(state, Decision.sanction, policy=pinned_policy(require_guidance=False)) is None


def test_guidance_check_uses_the_local_day_of_the_absence_whatever_the_offset() -> None:
    # 00:30 on 3 March in Copenhagen, written in UTC and in local time: the same instant, the same local day
    as_utc = heard(make_state("2026-03-02T23:30:00+00:00", guidance_given_on="2026-03-03"))
    as_local = heard(make_state("2026-03-03T00:30:00+01:00", guidance_given_on="2026-03-03"))
    assert as_utc.absence_at == as_local.absence_at
    assert refusal(as_local, Decision.sanction, now=cph(2026, 3, 20, 8)) is None
    assert refusal(as_utc, Decision.sanction, now=cph(2026, 3, 20, 8)) is None


# -- sanction not allowed for a category (the 2027 reform) ---------------------------------------------------
REFORM = pinned_policy(sanction_allowed_for=["jobparat", "uddannelsesparat"])


def test_reform_policy_refuses_sanction_for_aktivitetsparat_even_after_contact() -> None:
    state = with_contact(heard(make_state(ABSENCE, readiness="aktivitetsparat")))
    assert refusal(state, Decision.sanction, policy=REFORM) == (
        "the policy does not allow sanctions for aktivitetsparat citizens"
    )


@pytest.mark.parametrize("decision", [Decision.no_sanction_other, Decision.no_sanction_reasonable_cause])
def test_reform_policy_allows_no_sanction_for_aktivitetsparat(decision: Decision) -> None:
    state = heard(make_state(ABSENCE, readiness="aktivitetsparat"))
    assert refusal(state, decision, policy=REFORM) is None


def test_reform_policy_still_allows_sanction_for_jobparat() -> None:
    assert refusal(heard(make_state(ABSENCE)), Decision.sanction, policy=REFORM) is None


# -- decided or closed ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("decision", ALL_DECISIONS)
def test_an_already_decided_case_refuses_another_decision(decision: Decision) -> None:
    state = decided(heard(make_state(ABSENCE)), Decision.no_sanction_other)
    reason = refusal(state, decision)
    assert reason == (
        "the case was already decided (no_sanction_other); new information opens a reassessment"
    )


@pytest.mark.parametrize("decision", ALL_DECISIONS)
def test_a_closed_case_refuses_decisions(decision: Decision) -> None:
    state = heard(make_state(ABSENCE))
    state.closed = True
    assert refusal(state, decision) == "the case is closed"


# -- ladder_exhausted ----------------------------------------------------------------------------------------
def test_ladder_exhausted() -> None:
    state = make_state(ABSENCE, readiness="aktivitetsparat")
    assert not ladder_exhausted(state, POLICY)
    state.ladder_rung = len(POLICY.ladder) - 1
    state.home_visits = 1
    assert not ladder_exhausted(state, POLICY)
    state.ladder_rung = len(POLICY.ladder)
    assert ladder_exhausted(state, POLICY)
    state.home_visits = 0
    assert not ladder_exhausted(state, POLICY)
    assert ladder_exhausted(state, pinned_policy(min_home_visits=0))


# -- task_refusal --------------------------------------------------------------------------------------------
def open_task(state: CaseState, kind: TaskKind, role: str | None = None) -> None:
    state.open_tasks.append(
        OpenTask(
            kind=kind,
            key=f"wf/task/{len(state.open_tasks) + 1}/{kind.value}",
            opened_at=AFTER_DEADLINE,
            role=role,
        )
    )


def test_task_refusal_when_no_task_is_open() -> None:
    state = heard(make_state(ABSENCE, readiness="aktivitetsparat"))
    ev = task_completed(TaskKind.phone_call, "no_answer", AFTER_DEADLINE)
    assert task_refusal(state, ev) == "no phone_call task is open for this case (open tasks: none)"


def test_task_refusal_when_another_task_is_open() -> None:
    state = heard(make_state(ABSENCE, readiness="aktivitetsparat"))
    open_task(state, TaskKind.home_visit)
    ev = task_completed(TaskKind.representative, "contact_made", AFTER_DEADLINE)
    assert task_refusal(state, ev) == "no representative task is open for this case (open tasks: home_visit)"


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        (TaskKind.phone_call, "reached"),
        (TaskKind.home_visit, "no_contact"),
        (TaskKind.reassessment, "annul"),
        (TaskKind.representative, "no_contact"),
    ],
)
def test_task_accepted_when_open(kind: TaskKind, outcome: str) -> None:
    state = heard(make_state(ABSENCE, readiness="aktivitetsparat"))
    open_task(state, kind, role="mentor" if kind == TaskKind.representative else None)
    assert task_refusal(state, task_completed(kind, outcome, AFTER_DEADLINE)) is None


def test_task_refused_on_a_closed_case() -> None:
    state = heard(make_state(ABSENCE, readiness="aktivitetsparat"))
    open_task(state, TaskKind.home_visit)
    state.closed = True
    assert task_refusal(state, task_completed(TaskKind.home_visit, "no_contact", AFTER_DEADLINE)) == (
        "the case is closed"
    )
