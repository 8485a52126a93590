"""The rules the system enforces rather than trusts (domain.md § 4). Each returns a reason or None.

Reasons are written for the caseworker who sees them in the Web UI or on the command line: what is wrong,
and what would make it right. They never contain personal data.
"""

from __future__ import annotations

from datetime import datetime

from domain.case import CaseState
from domain.events import Decision, TaskAssigned, TaskCompleted, TaskKind
from domain.policy import LadderStepKind, Policy


def ladder_exhausted(state: CaseState, policy: Policy) -> bool:
    """All rungs worked through, with at least the policy's minimum of home visits."""
    return state.ladder_rung >= len(policy.ladder) and state.home_visits >= policy.min_home_visits


def needs_extended_hearing(state: CaseState, policy: Policy) -> bool:
    return state.citizen.readiness.value in policy.extended_hearing_for


def decision_refusal(state: CaseState, policy: Policy, decision: Decision, now: datetime) -> str | None:
    """Why this decision may not be made now, or None if it may."""
    if state.closed:
        return "the case is closed"
    if state.decision is not None:
        return f"the case was already decided ({state.decision.decision.value}); new information opens a reassessment"
    if state.hearing_sent_at is None and not state.answered:
        return "the citizen has not been heard yet: the hearing letter has not been sent (forvaltningsloven § 19)"
    if not state.answered and (state.deadline_ends_at is None or now < state.deadline_ends_at):
        ends = state.deadline_last_day.isoformat() if state.deadline_last_day else "not yet set"
        return f"the answer deadline has not passed (last day {ends}) and the citizen has not answered"
    if decision != Decision.sanction:
        return None
    readiness = state.citizen.readiness.value
    if readiness not in policy.sanction_allowed_for:
        return f"the policy does not allow sanctions for {readiness} citizens"
    if policy.require_guidance:
        given = state.citizen.guidance_given_on
        if given is None:
            return "no written guidance on duties and sanctions is on file (LAS § 35 stk. 1)"
        if given > state.absence_day:
            return f"the guidance on duties and sanctions ({given.isoformat()}) was given after the absence"
    if (
        needs_extended_hearing(state, policy)
        and not state.answered
        and not ladder_exhausted(state, policy)
    ):
        done = state.home_visits
        return (
            f"no contact with the {readiness} citizen yet and the contact attempts are not exhausted "
            f"(rung {min(state.ladder_rung + 1, len(policy.ladder))} of {len(policy.ladder)}, "
            f"home visits {done} of {policy.min_home_visits}; udvidet partshøring)"
        )
    return None


def task_refusal(state: CaseState, ev: TaskCompleted | TaskAssigned) -> str | None:
    """Why a (non-decision) task outcome, or an assignment, cannot be accepted, or None: only open tasks of an
    open case can be completed or assigned."""
    if state.closed:
        return "the case is closed"
    if state.task(ev.task) is None:
        open_kinds = ", ".join(t.kind.value for t in state.open_tasks) or "none"
        return f"no {ev.task.value} task is open for this case (open tasks: {open_kinds})"
    return None


def rung_kind_for(task: TaskKind) -> LadderStepKind | None:
    return {
        TaskKind.phone_call: LadderStepKind.phone_call,
        TaskKind.representative: LadderStepKind.representative,
        TaskKind.home_visit: LadderStepKind.home_visit,
    }.get(task)
