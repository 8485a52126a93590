"""The NemSMS reminder the working day before the answer deadline (behind `workflow.patched`).

Whole cases with `CaseDriver` under the pinned policy with the reminder on, its text, and one run of the real
workflow and activities on the time-skipping server. That old histories still replay is test_golden_histories.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from activities.models import CaseRef, Sms
from domain import journal as j
from domain import letters
from domain import planner as plan
from domain.events import Citizen
from domain.policy import load_policy, snapshot
from runtime.keys import KeyRing
from runtime.temporal import data_converter
from tests.factories import (
    CPR,
    CaseDriver,
    Caseworker,
    citizen_data,
    cph,
    make_case,
    pinned_policy,
    pinned_snapshot,
    snapshot_of,
)
from tests.temporal_env import case_worker, start_env
from tests.test_case_updates import missed
from workflows.api import CaseInput, Timeline, clock_offset, workflow_id_for
from workflows.missed_meeting import DEADLINE_REMINDER_PATCH

SNAP = snapshot_of(pinned_policy(deadline_reminder_sms=True))
MONDAY = "2026-03-02T10:00:00+01:00"  # hearing letter Tue 3 March 08:00; deadline Wed 11 March
REMINDER_AT = cph(2026, 3, 10, 8)
LATER = cph(2026, 9, 1)


def driver(occurred_at: str = MONDAY, *, snap: Any = SNAP, **citizen: Any) -> CaseDriver:
    return CaseDriver(make_case(occurred_at, **citizen), snap, caseworker=Caseworker(decision="sanction"))


def test_the_reminder_goes_out_the_working_day_before_the_deadline_and_changes_nothing_else() -> None:
    d = driver()
    assert d.run(cph(2026, 3, 9, 12)) == plan.Wait(REMINDER_AT, "NemSMS reminder of the answer deadline")
    assert d.run(cph(2026, 3, 11, 12)) == plan.Wait(cph(2026, 3, 12), "answer deadline")
    assert d.sms == [(REMINDER_AT, date(2026, 3, 11))]
    assert [e.details for e in d.entries(j.DEADLINE_REMINDER_SENT)] == [{"deadline": "2026-03-11"}]
    d.run(cph(2026, 3, 13))
    assert d.first(plan.OpenTask).at == cph(2026, 3, 12, 8)  # the decision task opens as before
    assert d.steps()[:5] == [j.CASE_OPENED, j.HEARING_LETTER_SENT, j.DEADLINE_SET, j.DEADLINE_REMINDER_SENT,
                             j.DECISION_TASK_OPENED]
    assert d.state.sms_sent == 0  # not one of the contact ladder's NemSMS
    assert any("deadline_reminder_sent" in line for line in d.state.contact_log())


def test_the_reminder_skips_closed_days() -> None:
    # Fri 27 March 2026; letter Mon 30 March; deadline Tue 7 April; 2-6 April is Easter (closed)
    d = driver("2026-03-27T10:00:00+01:00")
    d.run(cph(2026, 4, 7, 12))
    assert d.sms == [(cph(2026, 4, 1, 8), date(2026, 4, 7))]


@pytest.mark.parametrize("why", ["not on NemSMS", "policy off", "answered first"])
def test_no_reminder(why: str) -> None:
    if why == "not on NemSMS":
        d = driver(nemsms=False)
    elif why == "policy off":
        d = driver(snap=pinned_snapshot())
    else:
        d = driver()
        d.run(cph(2026, 3, 5, 12))
        d.respond()
    d.run(LATER)
    assert d.sms == [] and not d.entries(j.DEADLINE_REMINDER_SENT)
    assert d.state.deadline_reminder_at is None or d.state.answered


def test_a_late_reminder_waits_for_office_hours_and_is_dropped_once_the_last_day_is_over() -> None:
    d = driver()
    d.run(cph(2026, 3, 4))
    assert d.state.deadline_reminder_at == REMINDER_AT

    def next_at(hour: tuple[int, int, int, int]) -> plan.Action:
        return plan.next_action(d.state, d.policy, d.cal, cph(2026, *hour))

    # the worker was down all Tuesday: the reminder goes out Wednesday morning, still inside the deadline
    assert next_at((3, 10, 16, 0)) == plan.Wait(cph(2026, 3, 11, 8), "NemSMS reminder of the answer deadline")
    assert next_at((3, 11, 8, 0)) == plan.SendDeadlineReminder(date(2026, 3, 11))
    # Wednesday after closing: a reminder would come after the deadline: none
    assert next_at((3, 11, 15, 30)) == plan.Wait(cph(2026, 3, 12), "answer deadline")


def reminder_sms(max_chars: int = 150) -> Sms:
    case = CaseRef(workflow_id="missed-meeting-M-1", meeting_id="M-1", case_id="K-2026-0001", ground="jobsamtale",
                   absence_at=cph(2026, 3, 2, 10))
    return Sms(idempotency_key="k/sms/deadline-reminder", case=case, citizen=Citizen.model_validate(citizen_data()),
               number=0, max_chars=max_chars, release_on=date(2026, 3, 10), deadline_reminder=date(2026, 3, 11))


@pytest.mark.parametrize("max_chars", [150, 90, 60])
@pytest.mark.parametrize("phone", [None, "33 33 33 33"])
def test_the_reminder_text_names_the_deadline_and_no_personal_data(max_chars: int, phone: str | None) -> None:
    text = letters.sms_text(reminder_sms(max_chars), letters.Letterhead(phone=phone))
    assert 0 < len(text) <= max_chars
    assert "11" in text and "Husk at svare" in text
    assert CPR not in text and "Jens" not in text and "Hansen" not in text


def test_the_full_reminder_text() -> None:
    text = letters.sms_text(reminder_sms(), letters.Letterhead(phone="33 33 33 33"))
    assert text == ("Jobcenter København: Husk at svare på vores brev senest onsdag den 11. marts. "
                    "Svar på brevet eller ring til os på 33 33 33 33 hverdage kl. 8-15.")


async def test_the_real_workflow_sends_the_reminder_and_marks_its_history(tmp_path: Path) -> None:
    env = await start_env()
    async with env, case_worker(env, tmp_path / "outbox.sqlite") as (worker, outbox):
        event = missed("M-NR1")  # jobparat on NemSMS, absent Monday 2 March 2026
        offset = clock_offset(await env.get_current_time(), event.occurred_at)
        handle = await env.client.start_workflow(
            "MissedMeetingWorkflow",
            CaseInput(case=event, policy=snapshot(load_policy(), 2026), clock_offset_seconds=offset),
            id=workflow_id_for("M-NR1"), task_queue=worker.task_queue,
        )
        await env.sleep(timedelta(days=9))  # to Wednesday 11 March, the deadline's last day
        steps: list[dict[str, Any]] = []
        for _ in range(200):  # the worker catches up (bounded: 10 s of real time)
            steps = (await handle.query("timeline", result_type=Timeline)).steps
            if any(s["step"] == j.DEADLINE_REMINDER_SENT for s in steps):
                break
            await asyncio.sleep(0.05)
        history = await handle.fetch_history()
        await handle.terminate("test done")
    reminder = [s for s in steps if s["step"] == j.DEADLINE_REMINDER_SENT]
    assert [(s["at"], s["deadline"]) for s in reminder] == [("2026-03-10T08:00:00+01:00", "2026-03-11")]
    sent = outbox.get("missed-meeting-M-NR1/sms/deadline-reminder")
    assert sent is not None and sent.subject == "NemSMS deadline reminder" and "11. marts" in sent.body_text
    markers = [e for e in history.events if e.HasField("marker_recorded_event_attributes")
               and DEADLINE_REMINDER_PATCH.encode() in e.SerializeToString()]
    assert len(markers) == 1


def test_the_new_policy_field_stays_out_of_new_cases_inputs_while_at_its_default() -> None:
    """The release before forbids unknown policy fields: leaving the default out lets it read new cases."""
    converter = data_converter(KeyRing.generate()).payload_converter
    on = CaseInput(case=make_case(), policy=snapshot(load_policy(), 2026))
    [payload] = converter.to_payloads([on])
    assert "deadline_reminder_sms" not in json.loads(payload.data)["policy"]["policy"]
    assert converter.from_payloads([payload], [CaseInput]) == [on]
    off = CaseInput(case=make_case(), policy=snapshot_of(pinned_policy(deadline_reminder_sms=False)))
    [payload] = converter.to_payloads([off])
    assert json.loads(payload.data)["policy"]["policy"]["deadline_reminder_sms"] is False
    assert converter.from_payloads([payload], [CaseInput]) == [off]
