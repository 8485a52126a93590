"""The crash drill's own logic, which CI does not run end to end (bench/crash_drill.py, README: Fault drills):
its cases are valid events on a working morning, and its outbox check catches a second send and a lost one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from activities.outbox import OutboxRecord
from bench.drill_cases import CASE_CLOCK_START, SCRIPTS, CaseClock, make_cases
from bench.drill_check import actual_sends, compare_sends, expected_sends, files_holding
from domain.events import parse_event
from tests.factories import pinned_calendar


def row(kind: str, channel: str, recipient: str, key: str) -> OutboxRecord:
    now = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    return OutboxRecord(id=0, idempotency_key=key, message_id=key, workflow_id="w", meeting_id="M", case_id="K",
                        kind=kind, channel=channel, recipient=recipient, created_at=now, stored_at=now,
                        release_on=None, subject="", body_text="", memo_xml=None, payload={}, status="stored",
                        external_id=None, status_note=None)


JOURNAL: list[dict[str, Any]] = [
    {"step": "case_opened"},
    {"step": "hearing_letter_sent", "channel": "digital_post", "to": "citizen"},
    {"step": "hearing_letter_sent", "channel": "physical_post", "to": "mentor"},
    {"step": "deadline_set"},
    {"step": "decision_task_opened"},
    {"step": "decision_made"},
    {"step": "decision_letter_sent", "channel": "digital_post", "to": "citizen", "kind": "decision"},
    {"step": "deduction_registered"},
    {"step": "case_closed"},
]
ROWS = [
    row("hearing_letter", "digital_post", "citizen", "k1"),
    row("hearing_letter", "physical_post", "mentor", "k2"),
    row("task", "caseworker", "caseworker", "k3"),
    row("decision_letter", "digital_post", "citizen", "k4"),
    row("payment", "payments", "payments", "k5"),
]


def test_an_outbox_that_matches_its_journal_passes() -> None:
    assert compare_sends(expected_sends(JOURNAL), actual_sends(ROWS)) == (0, 0, [])


def test_a_second_task_under_another_key_is_a_duplicate_send() -> None:
    extra, missing, lines = compare_sends(expected_sends(JOURNAL),
                                          actual_sends([*ROWS, row("task", "caseworker", "caseworker", "k3-again")]))
    assert (extra, missing) == (1, 0) and lines == ["task/caseworker/caseworker: 2 in the outbox, 1 in the journal"]


def test_a_journaled_letter_without_its_row_is_a_lost_send() -> None:
    extra, missing, _ = compare_sends(expected_sends(JOURNAL), actual_sends(ROWS[1:]))
    assert (extra, missing) == (0, 1)


def test_drill_cases_are_valid_events_and_their_clock_is_a_working_morning() -> None:
    cases = make_cases(8, "t", seed=3)
    assert {c.script for c in cases} == set(SCRIPTS) and len({c.cpr for c in cases}) == 8
    for case in cases:
        at = CASE_CLOCK_START.isoformat()
        for data in (case.answer(CASE_CLOCK_START), case.decision(CASE_CLOCK_START)):
            parse_event(json.dumps(data))
        assert case.meeting_missed().citizen.cpr == case.cpr and case.cpr not in case.meeting_id + at
    clock = CaseClock.starting_now()
    assert abs(clock.now() - CASE_CLOCK_START) < timedelta(seconds=5)
    assert pinned_calendar().is_office_time(clock.now() + timedelta(hours=4))


def test_files_holding_finds_a_cpr_in_plain_text(tmp_path: Path) -> None:
    (tmp_path / "clean.log").write_text("nothing here")
    (tmp_path / "leaky.log").write_text("cpr=0101901234")
    found = files_holding([tmp_path / "clean.log", tmp_path / "leaky.log", tmp_path / "absent"], {"0101901234"})
    assert found == ["leaky.log"]
