"""Every branch of the process, end to end: the example scenarios on the time-skipping server.

One simulation run of `examples/scenarios.jsonl` (real workflow, real worker, real activities writing a real
outbox); each test reads one case's journal from the timeline JSON and checks what the law and the seeds say.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from simulation.runner import simulate

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "scenarios.jsonl"


@pytest.fixture(scope="module")
async def played(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("sim")
    out = io.StringIO()
    code = await simulate(EXAMPLES, tmp / "timeline.json", data_dir=tmp, out=out)
    assert code == 0, out.getvalue()
    cases = json.loads((tmp / "timeline.json").read_text())["cases"]
    outbox = tmp / "simulation" / "outbox.sqlite"
    return {"cases": {c["name"]: c for c in cases}, "table": out.getvalue(), "outbox": outbox}


def steps(played: dict[str, Any], name: str, step: str | None = None) -> list[dict[str, Any]]:
    all_steps: list[dict[str, Any]] = played["cases"][name]["steps"]
    return [s for s in all_steps if step is None or s["step"] == step]


def names(played: dict[str, Any], name: str) -> list[str]:
    return [s["step"] for s in steps(played, name)]


def outcome(played: dict[str, Any], name: str) -> dict[str, Any]:
    result: dict[str, Any] = played["cases"][name]["outcome"]
    return result


def test_table_lists_every_case(played: dict[str, Any]) -> None:
    for name in played["cases"]:
        assert name in played["table"]


def test_jobparat_no_answer_decided_the_working_day_after_the_deadline(played: dict[str, Any]) -> None:
    name = "jobparat-no-answer"
    letter = steps(played, name, "hearing_letter_sent")[0]
    assert letter["at"] == "2026-03-03T08:00:00+01:00" and letter["channel"] == "digital_post"
    assert letter["day"] == pytest.approx(0.92, abs=0.01)
    assert steps(played, name, "deadline_set")[0]["deadline"] == "2026-03-11"
    assert steps(played, name, "decision_task_opened")[0]["at"] == "2026-03-12T08:00:00+01:00"
    assert outcome(played, name)["decision"] == "sanction"
    assert 10 <= outcome(played, name)["decided_day"] <= 12  # the seeds: 10-12 days
    assert not steps(played, name, "sms_sent") and not steps(played, name, "task_opened")
    deduction = steps(played, name, "deduction_registered")[0]
    assert deduction["from"] == "2026-03-02" and deduction["to"] is None
    assert played["cases"][name]["status"]["closed"] is False  # runs until contact is restored


def test_answer_in_time_stops_waiting_and_decides_at_once(played: dict[str, Any]) -> None:
    name = "jobparat-answers-in-time"
    response = steps(played, name, "response_received")[0]
    assert response["reasonable_cause"] == "hospitalised"
    decided = outcome(played, name)
    assert decided["decision"] == "no_sanction_reasonable_cause"
    assert decided["decided_day"] < 8  # well before the deadline (2026-03-11)
    # answered Friday after office hours: the decision task opens Monday morning
    assert steps(played, name, "decision_task_opened")[0]["at"] == "2026-03-09T08:00:00+01:00"
    assert not steps(played, name, "deduction_registered")
    assert names(played, name)[-1] == "case_closed"


def test_paper_letter_counts_as_delivered_later(played: dict[str, Any]) -> None:
    name = "uddannelsesparat-paper-late-answer"
    letters = steps(played, name, "hearing_letter_sent")
    assert [(s["channel"], s["to"]) for s in letters] == [("physical_post", "citizen")]
    deadline = steps(played, name, "deadline_set")[0]
    assert deadline["delivered_on"] == "2026-04-20"  # posted Wed 15 April + 3 working days
    assert deadline["deadline"] == "2026-04-28"


def test_late_answer_after_a_sanction_opens_a_reassessment(played: dict[str, Any]) -> None:
    name = "uddannelsesparat-paper-late-answer"
    order = names(played, name)
    assert order.index("decision_made") < order.index("response_received") < order.index("reassessment_task_opened")
    assert steps(played, name, "reassessment_made")[0]["outcome"] == "uphold"
    assert steps(played, name, "deduction_ended")[0]["to"] == "2026-04-29"
    assert order[-1] == "case_closed"


def test_never_logged_in_gets_both_and_representatives_get_copies(played: dict[str, Any]) -> None:
    name = "aktivitetsparat-never-logged-in-reps"
    sent = {(s["channel"], s["to"]) for s in steps(played, name, "hearing_letter_sent")}
    assert sent == {("digital_post", "citizen"), ("physical_post", "citizen"), ("email", "mentor"),
                    ("physical_post", "partsrepraesentant")}
    decision_letters = {(s["channel"], s["to"]) for s in steps(played, name, "decision_letter_sent")}
    assert ("physical_post", "partsrepraesentant") in decision_letters


def test_answer_during_the_ladder_cancels_open_attempts(played: dict[str, Any]) -> None:
    name = "aktivitetsparat-never-logged-in-reps"
    contact = steps(played, name, "contact_made")[0]
    assert contact["via"] == "phone"
    order = names(played, name)
    assert "sms_sent" in order  # the ladder had started
    assert "home_visit" not in order  # and stopped at contact
    assert outcome(played, name)["decision"] == "no_sanction_other"


def test_seed_case_1_home_visit_contact_then_sanction(played: dict[str, Any]) -> None:
    name = "seed-case-1"
    count = Counter(names(played, name))
    assert count["sms_sent"] == 3
    assert count["phone_call"] >= 1
    assert steps(played, name, "home_visit")[0]["outcome"] == "contact_made"
    assert steps(played, name, "contact_made")[0]["via"] == "home_visit"
    skipped = {s["rung"] for s in steps(played, name, "ladder_step_skipped")}
    assert skipped == {"email", "representative"}  # no e-mail, no representative on file: documented
    assert outcome(played, name)["decision"] == "sanction"


def test_seed_case_2_turns_up_in_crisis_no_sanction(played: dict[str, Any]) -> None:
    name = "seed-case-2"
    attended = steps(played, name, "citizen_attended")[0]
    assert attended["day"] == pytest.approx(13.2, abs=0.01)
    assert steps(played, name, "contact_made")[0]["via"] == "in_person"
    assert Counter(names(played, name))["phone_call"] == 3
    assert outcome(played, name)["decision"] == "no_sanction_other"
    assert names(played, name)[-1] == "case_closed"


def test_aktivitetsparat_sanction_only_after_the_whole_ladder(played: dict[str, Any]) -> None:
    name = "aktivitetsparat-ladder-exhausted"
    order = names(played, name)
    rungs = [s for s in order if s in {"inbound_contact_checked", "phone_call", "sms_sent", "email_sent",
                                      "representative_contacted", "home_visit"}]
    assert rungs == (["inbound_contact_checked"] + ["phone_call"] * 3 + ["sms_sent"] * 3 + ["email_sent",
                     "representative_contacted", "home_visit"])
    assert order.index("home_visit") < order.index("decision_task_opened") < order.index("decision_made")
    assert 17 <= outcome(played, name)["decided_day"] <= 22  # the seeds: 19-20 days
    for step in steps(played, name):
        if step["step"] in {"sms_sent", "email_sent", "task_opened", "hearing_letter_sent", "decision_letter_sent"}:
            hour = int(step["at"][11:13])
            assert 8 <= hour < 15, step  # office hours only


def test_premature_decisions_are_refused_and_documented(played: dict[str, Any]) -> None:
    name = "premature-decision-refused"
    rejected = steps(played, name, "decision_rejected")
    assert [round(r["day"]) for r in rejected] == [3, 11]
    assert "deadline has not passed" in rejected[0]["reason"]
    assert "contact attempts are not exhausted" in rejected[1]["reason"]
    assert outcome(played, name)["decision"] == "sanction"
    assert outcome(played, name)["decided_day"] > 11


def test_no_sanction_without_guidance_on_file(played: dict[str, Any]) -> None:
    name = "no-guidance-sanction-refused"
    rejected = steps(played, name, "decision_rejected")
    assert len(rejected) == 1 and "LAS § 35" in rejected[0]["reason"]
    assert outcome(played, name)["decision"] == "no_sanction_other"


@pytest.mark.parametrize(
    ("name", "deadline"),
    [("easter-deadline", "2026-04-07"), ("christmas-deadline", "2026-12-28")],
)
def test_holiday_deadlines_roll_to_the_next_working_day(played: dict[str, Any], name: str, deadline: str) -> None:
    assert steps(played, name, "deadline_set")[0]["deadline"] == deadline
    decided = steps(played, name, "decision_task_opened")[0]["at"][:10]
    assert decided > deadline


def test_annulment_is_reversed_in_payments(played: dict[str, Any]) -> None:
    name = "sanction-then-annulled"
    order = names(played, name)
    assert order.index("deduction_registered") < order.index("reassessment_task_opened")
    assert steps(played, name, "reassessment_made")[0]["outcome"] == "annul"
    assert steps(played, name, "sanction_annulled")[0]["payments"] == "reversed"
    assert any(s.get("kind") == "reassessment" for s in steps(played, name, "decision_letter_sent"))
    assert order[-1] == "case_closed"


def test_contact_restored_ends_the_deduction(played: dict[str, Any]) -> None:
    name = "sanction-then-contact-restored"
    ended = steps(played, name, "deduction_ended")[0]
    assert ended["from"] == "2026-02-03" and ended["to"] == "2026-02-27"
    assert names(played, name)[-1] == "case_closed"


def test_outbox_holds_each_letter_once(played: dict[str, Any]) -> None:
    with sqlite3.connect(played["outbox"]) as db:
        keys = [row[0] for row in db.execute("SELECT idempotency_key FROM outbox")]
    assert keys and len(keys) == len(set(keys))
    hearing = [k for k in keys if "/hearing_letter/citizen/" in k]
    cases = played["cases"]
    expected = sum(len(steps(played, n, "hearing_letter_sent")) for n in cases) - sum(
        1 for n in cases for s in steps(played, n, "hearing_letter_sent") if s["to"] != "citizen")
    assert len(hearing) == expected
