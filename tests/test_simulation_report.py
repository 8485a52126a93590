"""Generated populations played for real (time-skipping server, real worker and activities), and their reports:
the report's numbers are the per-case results' numbers, a comparison shows both policies, and the fast path
(driver result + outbox, no queries) agrees with the cases' own journals."""

from __future__ import annotations

import io
import json
import re
import statistics
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain.policy import load_policy
from simulation.analysis import READINESS, WEEKDAYS, percentile
from simulation.forecast import ForecastRequest, compare_results, run_forecast
from simulation.results import CaseRow, read_rows
from simulation.runner import simulate

ROOT = Path(__file__).resolve().parent.parent
CASES = 30


@pytest.fixture(scope="module")
async def compared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """30 generated cases under Copenhagen's policy and under the 2027 what-if, in one command."""
    directory = tmp_path_factory.mktemp("forecast")
    policies = [(load_policy(), "config/policy.toml"),
                (load_policy(ROOT / "config" / "policy-2027.toml"), "config/policy-2027.toml")]
    out = io.StringIO()
    request = ForecastRequest(policies=policies, report_dir=directory, outbox_dir=directory, generate=CASES, seed=3,
                              start=date(2026, 3, 1), end=date(2026, 4, 30), window=20, quiet=True,
                              write_scenarios=directory / "population.jsonl", command="test")
    assert await run_forecast(request, out=out) == 0
    rows = {label: list(read_rows(directory / f"results-{label}.jsonl"))
            for label in ("copenhagen-2026", "reform-2027")}
    summary = json.loads((directory / "summary.json").read_text())
    return {"dir": directory, "rows": rows, "summary": summary, "printed": out.getvalue(),
            "report": (directory / "report.md").read_text()}


def test_every_case_is_played_under_both_policies(compared: dict[str, Any]) -> None:
    for rows in compared["rows"].values():
        assert len(rows) == CASES
        assert not [r.failure for r in rows if r.failure]
    names = [[r.name for r in rows] for rows in compared["rows"].values()]
    assert names[0] == names[1]
    assert "cases/s" in compared["printed"]


def test_the_report_numbers_are_the_results_numbers(compared: dict[str, Any]) -> None:
    for run in compared["summary"]:
        rows: list[CaseRow] = compared["rows"][run["label"]]
        assert run["cases"] == len(rows)
        for stats in run["decision_days"]:
            mine = [r for r in rows if r.readiness == stats["readiness"]]
            days = sorted(r.decided_day for r in mine if r.decided_day is not None)
            assert stats["cases"] == len(mine) and stats["decided"] == len(days)
            assert stats["median"] == (statistics.median(days) if days else None)
            assert stats["p90"] == percentile(days, 0.9)
            assert stats["on_time"] == sum(1 for r in mine if r.on_time)
        for readiness in READINESS:
            outcomes = Counter(r.decision or "undecided" for r in rows if r.readiness == readiness)
            assert run["outcomes"].get(readiness, {}) == dict(outcomes)
        tasks = Counter(kind for r in rows for kind, _ in r.tasks)
        weekly = Counter[str]()
        for week in run["tasks_by_week"].values():
            weekly.update(week)
        assert weekly == tasks
        letters = sum(len(r.letters) for r in rows)
        assert sum(sum(days.values()) for days in run["letters_by_weekday"].values()) == letters


def test_letters_never_go_out_on_a_weekend_and_every_case_is_heard(compared: dict[str, Any]) -> None:
    for run in compared["summary"]:
        for days in run["letters_by_weekday"].values():
            assert not set(days) & set(WEEKDAYS[5:])
    for rows in compared["rows"].values():
        assert all(any(kind == "hearing" and to == "citizen" for kind, _, to, _ in r.letters) for r in rows)


def test_the_reform_sanctions_no_aktivitetsparat_and_sends_no_home_visits(compared: dict[str, Any]) -> None:
    base, reform = compared["rows"]["copenhagen-2026"], compared["rows"]["reform-2027"]
    assert not [r for r in reform if r.readiness == "aktivitetsparat" and r.decision == "sanction"]
    assert not [t for r in reform for t, _ in r.tasks if t in {"home_visit", "phone_call"}]
    assert [t for r in base for t, _ in r.tasks if t == "phone_call"]  # the ladder runs under today's policy
    refused = [r for r in reform if any("does not allow sanctions" in reason for reason in r.refused)]
    assert all(r.decision == "no_sanction_other" for r in refused)


def test_the_report_shows_both_policies_with_its_charts(compared: dict[str, Any]) -> None:
    report: str = compared["report"]
    assert "copenhagen-2026 compared with reform-2027" in report
    assert "| aktivitetsparat | 19–20 | copenhagen-2026 |" in report
    assert "| aktivitetsparat | 19–20 | reform-2027 |" in report
    for chart in ("decision_days.png", "workload_weekly.png", "letters_weekday.png", "outcomes.png"):
        assert f"({chart})" in report
        assert (compared["dir"] / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (compared["dir"] / "summary.json").read_text()
    results = (compared["dir"] / "results-copenhagen-2026.jsonl").read_text()
    for text in (report, summary, results):  # no CPR number, name or address
        assert not re.search(r"(?<!\d)\d{10}(?!\d)", text) and "Syntetisk" not in text and "Simuleringsvej" not in text


def test_a_comparison_can_be_rebuilt_from_the_results_files(compared: dict[str, Any], tmp_path: Path) -> None:
    files = [compared["dir"] / "results-copenhagen-2026.jsonl", compared["dir"] / "results-reform-2027.jsonl"]
    assert compare_results(files, tmp_path, "test", out=io.StringIO()) == 0
    rebuilt = json.loads((tmp_path / "summary.json").read_text())
    assert [r["label"] for r in rebuilt] == ["copenhagen-2026", "reform-2027"]
    assert [r["outcomes"] for r in rebuilt] == [r["outcomes"] for r in compared["summary"]]


async def test_the_fast_path_agrees_with_the_journals(compared: dict[str, Any], tmp_path: Path) -> None:
    """The written population, played the contract's way (journals by query), decides the same on the same days."""
    population = compared["dir"] / "population.jsonl"
    code = await simulate(population, tmp_path / "timeline.json", data_dir=tmp_path, out=io.StringIO(),
                          journals=False)
    assert code == 0
    journals = {c["name"]: c for c in json.loads((tmp_path / "timeline.json").read_text())["cases"]}
    for row in compared["rows"]["copenhagen-2026"]:
        outcome = journals[row.name]["outcome"] or {}
        assert row.decision == outcome.get("decision"), row.name
        assert row.decided_day == pytest.approx(outcome.get("decided_day"), abs=0.011), row.name
        steps = journals[row.name]["steps"]
        assert len(row.refused) == sum(1 for s in steps if s["step"] == "decision_rejected")
        opened = [s for s in steps if s["step"] in {"task_opened", "decision_task_opened", "reassessment_task_opened"}]
        assert len(row.tasks) == len(opened), row.name


def test_the_report_gives_the_ratio_to_the_ceiling(compared: dict[str, Any], tmp_path: Path) -> None:
    from simulation.analysis import summarize
    from simulation.forecast import finish_report
    from simulation.forecast_report import ReportMeta, RunFacts

    rows = compared["rows"]["copenhagen-2026"]
    meta = ReportMeta(command="test", runs=[RunFacts(label="copenhagen-2026", seconds=len(rows) / 6.0)],
                      ceiling={"sandboxed": 40.0, "unsandboxed": 60.0})
    report = finish_report([summarize(rows, "copenhagen-2026")], tmp_path, meta).read_text()
    assert "sandboxed 40.0/s, unsandboxed 60.0/s" in report
    assert "share of the unsandboxed ceiling (the mode the cases ran in): copenhagen-2026 0.10." in report
    months = [line for line in report.splitlines() if re.match(r"\| \d{4}-\d\d \|", line)]
    assert months and all(re.search(r"\| [1-9]", line) for line in months)  # no month without a shown task


def test_who_waits_longest_accounts_for_every_decided_case(compared: dict[str, Any]) -> None:
    from simulation.analysis import WAIT_GROUPS, wait_group

    for run in compared["summary"]:
        rows: list[CaseRow] = compared["rows"][run["label"]]
        waits = {(w["readiness"], w["who"]): w for w in run["waits"]}
        assert list(waits) == list(WAIT_GROUPS)
        for group, akt in (("aktivitetsparat", True), ("jobparat, uddannelsesparat", False)):
            decided = sum(1 for r in rows if (r.readiness == "aktivitetsparat") == akt and r.decided_day is not None)
            assert sum(w["cases"] for (g, _), w in waits.items() if g == group) == decided
        for key, wait in waits.items():
            days = sorted(r.decided_day for r in rows if wait_group(r) == key and r.decided_day is not None)
            assert wait["cases"] == len(days)
            assert wait["median"] == (statistics.median(days) if days else None)
        silent_paper = [r for r in rows if r.readiness != "aktivitetsparat" and r.answered_day is None
                        and r.digital_post != "registered" and r.decided_day is not None]
        assert all(wait_group(r) in WAIT_GROUPS[2:4] for r in silent_paper)
    assert "Who waits longest" in compared["report"]
