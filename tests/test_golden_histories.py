"""Golden histories (tests/histories/): every recorded set replays on the current code, on every test run.

The sets are real runs of every scenario (examples/scenarios.jsonl, tests/histories/scenarios.jsonl) recorded
by `scripts/record-histories`: 001 by the code before the deadline reminder, 002 by the code with it. The tests
below also walk the README's patch → deprecate_patch → remove procedure with variants of the workflow
(tests/reminder_variants.py) and show which step breaks which histories.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.worker import Replayer, Worker

from activities.case_activities import CaseActivities
from activities.channels import OutboxChannels
from activities.outbox import Outbox
from domain.policy import load_policy, snapshot
from replay.replayer import history_files, load_history, make_replayer, run_replay
from runtime.temporal import data_converter
from runtime.worker import sandbox_runner
from simulation.scenario import load_scenarios
from tests.change_variants import OneUpsertWithoutPatch, TaskDueWithoutPatch
from tests.histories.keys import golden_keys
from tests.reminder_variants import ReminderPatchDeprecated, ReminderWithoutPatch
from tests.temporal_env import start_env
from tests.test_case_updates import missed
from workflows.api import WORKFLOW_TYPE, CaseInput, clock_offset, workflow_id_for
from workflows.missed_meeting import DEADLINE_REMINDER_PATCH, ONE_UPSERT_PATCH, TASK_DUE_PATCH

ROOT = Path(__file__).resolve().parent.parent
HISTORIES = ROOT / "tests" / "histories"
BEFORE = HISTORIES / "001-before-deadline-reminder"
REMINDER = HISTORIES / "002-deadline-reminder"
SLOW_BEFORE = HISTORIES / "002-slow-caseworkers"
TASK_DUE = HISTORIES / "003-task-due-and-escalation"
ONE_UPSERT = HISTORIES / "004-one-upsert-per-rest"
SCENARIOS = [ROOT / "examples" / "scenarios.jsonl", HISTORIES / "scenarios.jsonl"]
SLOW = HISTORIES / "slow-caseworkers.jsonl"
"""Caseworkers who take longer than the due times that came later: the window the task-due change touches."""
RECORDED_FROM = {BEFORE: SCENARIOS, REMINDER: SCENARIOS, SLOW_BEFORE: [SLOW], TASK_DUE: [*SCENARIOS, SLOW],
                 ONE_UPSERT: [*SCENARIOS, SLOW]}
"""Each golden set and the scenario files it was recorded from."""
LAST_DAY_DECISION = "missed-meeting-M-N6"
"""NemSMS citizen; a caseworker tries to decide on the deadline's last day, after the reminder's time."""


def replayer(workflow: type) -> Replayer:
    return Replayer(workflows=[workflow], data_converter=data_converter(golden_keys()),
                    workflow_runner=sandbox_runner())


async def replay(paths: list[Path], with_replayer: Replayer) -> tuple[int, dict[str, str]]:
    """Exit code, and per workflow id of each failed history its failure line."""
    out = io.StringIO()
    code = await run_replay(paths, out=out, replayer=with_replayer)
    lines = out.getvalue().splitlines()
    failed = {line.split()[1]: lines[i + 1].strip() for i, line in enumerate(lines) if line.startswith("FAIL")}
    return code, failed


def patch_markers(path: Path) -> list[dict[str, Any]]:
    """The patch markers in a history file, as the SDK writes them: `{"id": ..., "deprecated": ...}`."""
    events = json.loads(path.read_text("utf-8"))["events"]
    return [json.loads(base64.b64decode(payload["data"]))
            for e in events if e.get("markerRecordedEventAttributes", {}).get("markerName") == "core_patch"
            for details in e["markerRecordedEventAttributes"]["details"].values()
            for payload in details["payloads"]]


def patched_cases(folder: Path) -> set[str]:
    """Workflow ids whose history holds the reminder's patch marker."""
    return {path.stem for path in history_files([folder])
            if any(m["id"] == DEADLINE_REMINDER_PATCH for m in patch_markers(path))}


def test_every_scenario_has_a_golden_history_in_every_set() -> None:
    sets = [p for p in HISTORIES.iterdir() if p.is_dir() and list(p.glob("*.json"))]
    assert set(sets) == set(RECORDED_FROM)
    for folder, files in RECORDED_FROM.items():
        expected = {workflow_id_for(start.meeting_id) for path in files for _, start, _ in load_scenarios(path)}
        assert {p.stem for p in folder.glob("*.json")} == expected, folder.name


def test_golden_histories_are_case_workflows_with_encrypted_payloads() -> None:
    personal = {c.case["citizen"][k] for path in [*SCENARIOS, SLOW] for c, _, _ in load_scenarios(path)
                for k in ("cpr", "name")}
    files = history_files([HISTORIES])
    assert len(files) >= 38
    for path in files:
        text = path.read_text(encoding="utf-8")
        first = json.loads(text)["events"][0]
        assert first["workflowExecutionStartedEventAttributes"]["workflowType"]["name"] == WORKFLOW_TYPE
        assert not [p for p in personal if p in text], path.name
        assert load_history(path).events


async def test_every_golden_history_replays_on_the_current_code() -> None:
    out = io.StringIO()
    code = await run_replay([HISTORIES], out=out, replayer=make_replayer(keys=golden_keys()))
    assert code == 0, out.getvalue()
    assert f"{len(history_files([HISTORIES]))} replayed, 0 failed" in out.getvalue()


def test_the_reminder_set_took_the_new_path_for_nemsms_citizens_only() -> None:
    on_nemsms = {workflow_id_for(start.meeting_id) for path in SCENARIOS for _, start, _ in load_scenarios(path)
                 if start.citizen.nemsms}
    assert patched_cases(BEFORE) == set()
    assert patched_cases(REMINDER) == on_nemsms
    assert "send_sms" in (REMINDER / "missed-meeting-M-N1.json").read_text("utf-8")
    assert "send_sms" not in (BEFORE / "missed-meeting-M-N1.json").read_text("utf-8")


def test_the_task_due_set_took_the_new_path_for_every_case_that_opened_a_task() -> None:
    def marked(folder: Path) -> set[str]:
        return {path.stem for path in history_files([folder])
                if any(m["id"] == TASK_DUE_PATCH for m in patch_markers(path))}

    opened_a_task = {path.stem for path in history_files([TASK_DUE]) if '"open_task"' in path.read_text("utf-8")}
    assert marked(TASK_DUE) == opened_a_task and {"missed-meeting-M-T1", "missed-meeting-M-T2"} <= opened_a_task
    assert marked(SLOW_BEFORE) == marked(REMINDER) == set()
    for case in ("missed-meeting-M-T1", "missed-meeting-M-T2"):
        assert '"escalate_task"' in (TASK_DUE / f"{case}.json").read_text("utf-8")
        assert '"escalate_task"' not in (SLOW_BEFORE / f"{case}.json").read_text("utf-8")


async def test_task_due_times_without_the_patch_break_cases_from_before_them() -> None:
    """Without the patch, a replayed old case gets due times on its tasks: an overdue one escalates, and the
    `TaskDue` search attribute changes where the recorded case upserted nothing. Both issue commands the
    history does not hold."""
    code, failed = await replay([SLOW_BEFORE, REMINDER], replayer(TaskDueWithoutPatch))
    assert code == 1
    # M-T2 was woken by a timer while a phone-call task was overdue. M-T1's slow decision woke the case only by
    # completing the task, so nothing was overdue when it ran again: slowness alone covers nothing.
    assert "missed-meeting-M-T2" in failed and "missed-meeting-M-T1" not in failed
    upserts = [w for w, line in failed.items() if "UpsertWorkflowSearchAttributes" in line]
    assert len(upserts) >= 3, failed  # tasks following each other: TaskDue moves, PendingTask does not
    assert all(line.startswith("NondeterminismError at event ") for line in failed.values())


def upserts(path: Path) -> int:
    events = json.loads(path.read_text("utf-8"))["events"]
    return sum("upsertWorkflowSearchAttributesEventAttributes" in e for e in events)


def test_cases_publish_their_search_attributes_once_per_rest() -> None:
    before = sum(upserts(p) for p in history_files([TASK_DUE]))
    after = sum(upserts(p) for p in history_files([ONE_UPSERT]))
    assert after < 0.8 * before  # 247 against 340 when recorded
    for path in history_files([ONE_UPSERT]):
        assert [m["id"] for m in patch_markers(path)].count(ONE_UPSERT_PATCH) == 1, path.name


async def test_one_upsert_per_rest_without_the_patch_breaks_cases_from_before_it() -> None:
    code, failed = await replay([TASK_DUE], replayer(OneUpsertWithoutPatch))
    assert code == 1 and len(failed) == len(history_files([TASK_DUE]))  # every case upserted after a step
    assert await replay([ONE_UPSERT], replayer(OneUpsertWithoutPatch)) != (0, {})  # nor can the marker go yet


async def test_the_same_change_without_the_patch_breaks_a_case_from_before_it() -> None:
    code, failed = await replay([BEFORE], replayer(ReminderWithoutPatch))
    assert code == 1
    # Only a case woken between the reminder's time and the deadline diverges: the careless code sends the
    # reminder where the recorded case started a timer. Every other old history still replays, which is why
    # the golden set needs that case.
    assert list(failed) == [LAST_DAY_DECISION]
    assert failed[LAST_DAY_DECISION].startswith("NondeterminismError at event ")
    assert "(TimerStarted)" in failed[LAST_DAY_DECISION]


async def test_dropping_the_patch_call_at_once_breaks_every_case_recorded_with_it() -> None:
    code, failed = await replay([REMINDER], replayer(ReminderWithoutPatch))
    assert code == 1
    assert set(failed) == patched_cases(REMINDER)
    assert all(f"(MarkerRecorded {DEADLINE_REMINDER_PATCH})" in line for line in failed.values())


async def test_deprecate_patch_replays_the_patched_cases_but_not_the_old_ones() -> None:
    assert await replay([REMINDER], replayer(ReminderPatchDeprecated)) == (0, {})
    code, failed = await replay([BEFORE], replayer(ReminderPatchDeprecated))
    assert code == 1 and list(failed) == [LAST_DAY_DECISION]


async def test_removing_the_patch_replays_cases_recorded_after_deprecation(tmp_path: Path) -> None:
    env = await start_env(golden_keys())
    activities = CaseActivities(OutboxChannels(Outbox(tmp_path / "outbox.sqlite"))).all_activities()
    queue = f"test-{uuid.uuid4()}"
    async with env, Worker(env.client, task_queue=queue, workflows=[ReminderPatchDeprecated],
                           activities=activities, workflow_runner=sandbox_runner()):
        event = missed("M-DP1")  # jobparat on NemSMS: the reminder applies
        offset = clock_offset(await env.get_current_time(), event.occurred_at)
        handle = await env.client.start_workflow(
            WORKFLOW_TYPE, CaseInput(case=event, policy=snapshot(load_policy(), 2026), clock_offset_seconds=offset),
            id=workflow_id_for("M-DP1"), task_queue=queue,
        )
        await env.sleep(timedelta(days=12))  # reminder, deadline, decision task
        history = await handle.fetch_history()
        await handle.terminate("recorded")
    path = tmp_path / "missed-meeting-M-DP1.json"
    path.write_text(history.to_json(), encoding="utf-8")
    reminder = [m for m in patch_markers(path) if m["id"] == DEADLINE_REMINDER_PATCH]
    assert reminder == [{"id": DEADLINE_REMINDER_PATCH, "deprecated": True}]
    assert "send_sms" in path.read_text("utf-8")
    assert await replay([path], replayer(ReminderWithoutPatch)) == (0, {})
