"""The benchmark's pure parts: goals and ratios, the table, synthetic input, trivial shapes. No timing here."""

from __future__ import annotations

import argparse
import json
import math
from datetime import datetime

import pytest

from bench.perf import ordered, parse_parts, parse_sizes
from bench.perf_data import CPH, MIX, fake_cpr, meeting_missed, scenario
from bench.perf_memory import WARMUP, MemoryRun
from bench.perf_report import (
    AT_LEAST_90_PERCENT,
    AT_MOST_1_5,
    Goal,
    Row,
    goals_summary,
    number,
    render_markdown,
    render_text,
    to_json,
)
from bench.perf_trivial import TrivialInput, history_events, shape_for_length
from domain.events import MeetingMissed, parse_event


def test_a_rate_goal_is_met_at_or_above_its_bound_and_a_cost_goal_at_or_below() -> None:
    assert AT_LEAST_90_PERCENT.met(0.9) and AT_LEAST_90_PERCENT.met(1.2)
    assert not AT_LEAST_90_PERCENT.met(0.899)
    assert AT_MOST_1_5.met(1.5) and AT_MOST_1_5.met(0.7)
    assert not AT_MOST_1_5.met(1.51)
    assert not Goal("at_least", 0.5).met(math.nan)
    assert AT_LEAST_90_PERCENT.render() == "≥ 90%"
    assert AT_MOST_1_5.render() == "≤ 1.5×"


def test_a_row_divides_figure_by_ceiling_and_judges_only_what_has_a_goal() -> None:
    rate = Row("intake", "file events/s", 2000, 90.0, "/s", 100.0, AT_LEAST_90_PERCENT)
    assert rate.ratio == pytest.approx(0.9) and rate.met is True
    cost = Row("case", "server CPU per activity", 400, 31.0, "ms", 20.0, AT_MOST_1_5)
    assert cost.ratio == pytest.approx(1.55) and cost.met is False
    assert Row("replay", "histories/s", 61, 16.0, "/s", 18.0).met is None
    alone = Row("memory", "database per case", 2000, 28.0, "KiB")
    assert alone.ratio is None and alone.met is None
    assert math.isnan(Row("x", "y", 1, 1.0, "/s", 0.0, AT_LEAST_90_PERCENT).ratio or 0.0)


def test_numbers_keep_three_significant_figures() -> None:
    assert [number(v) for v in (1234.5, 56.78, 5.678, 0.05678, 0.0)] == ["1,234", "56.8", "5.68", "0.0568", "0"]
    assert number(math.nan) == "n/a"


ROWS = [
    Row("intake", "file events/s", 2000, 120.0, "/s", 150.0, AT_LEAST_90_PERCENT, "note a"),
    Row("case", "server CPU per activity", 400, 23.0, "ms", 17.5, AT_MOST_1_5, "note b"),
    Row("memory", "server database per case", 2000, 28.1, "KiB"),
]


def test_the_text_table_has_a_header_a_rule_and_one_aligned_line_a_row() -> None:
    lines = render_text(ROWS).splitlines()
    assert lines[0].split() == ["measure", "N", "figure", "ceiling", "ratio", "goal", "met?"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert len(lines) == 2 + len(ROWS)
    assert "0.80" in lines[2] and lines[2].rstrip().endswith("NO")
    assert "1.31" in lines[3] and lines[3].rstrip().endswith("yes")
    assert lines[4].rstrip().endswith("—")
    ratio_column = lines[0].index("ratio") + len("ratio")
    assert all(line[ratio_column - 1] != " " for line in lines[2:4])  # numbers right-aligned under their header


def test_the_markdown_table_has_seven_columns_on_every_line() -> None:
    lines = render_markdown(ROWS).splitlines()
    assert len(lines) == 2 + len(ROWS)
    assert all(line.count("|") == 8 for line in lines)


def test_the_json_report_has_no_nan_and_says_which_goals_were_met() -> None:
    rows = [*ROWS, Row("x", "broken ceiling", 1, 1.0, "/s", 0.0, AT_LEAST_90_PERCENT)]
    document = json.loads(to_json(rows, {"command": "python -m bench.perf"}))
    assert [r["met"] for r in document["rows"]] == [False, True, None, False]
    assert document["rows"][3]["ratio"] is None
    assert document["rows"][0]["goal"] == "≥ 90%"


def test_the_summary_names_the_goals_missed() -> None:
    assert goals_summary(ROWS) == "goals met: 1 of 2; missed: intake: file events/s (N=2,000)"
    assert goals_summary(ROWS[1:]) == "goals met: 1 of 1"


def test_rows_are_ordered_by_part_then_as_reported_then_by_size() -> None:
    rows = [Row("memory", "m", 2000, 1, "KiB"), Row("intake", "b", 2000, 1, "/s"), Row("intake", "a", 500, 1, "/s"),
            Row("intake", "b", 500, 1, "/s")]
    assert [(r.part, r.measure, r.size) for r in ordered(rows)] == [
        ("intake", "b", 500), ("intake", "b", 2000), ("intake", "a", 500), ("memory", "m", 2000)]


def test_sizes_and_parts_are_checked_on_the_command_line() -> None:
    assert parse_sizes("1000, 2000") == [1000, 2000]
    assert parse_parts("intake,replay") == ["intake", "replay"]
    for bad in ("", "10", "x"):
        with pytest.raises((argparse.ArgumentTypeError, ValueError)):
            parse_sizes(bad)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_parts("intake,speed")


def test_synthetic_events_are_valid_and_their_ids_hold_no_cpr() -> None:
    at = datetime(2026, 3, 2, 10, 0, tzinfo=CPH)
    for n in (0, 7, 12345):
        event = parse_event(json.dumps(meeting_missed("perf", n, at)))
        assert isinstance(event, MeetingMissed)
        cpr = fake_cpr(n)
        assert len(cpr) == 10 and cpr.startswith("0101") and cpr.isdigit()
        assert cpr not in event.meeting_id and cpr not in event.case_id and cpr not in event.event_id
    kinds = {(MIX[n % len(MIX)].readiness) for n in range(len(MIX))}
    assert {"jobparat", "aktivitetsparat"} <= kinds
    assert {scenario("s", n)["case"]["citizen"]["readiness"] for n in range(2)} == {"jobparat", "aktivitetsparat"}


def test_trivial_history_lengths_are_predicted_and_matched_within_two_events() -> None:
    assert history_events(TrivialInput(activities=3, timers=1), completed=True) == 4 + 18 + 5 + 1
    waiting = TrivialInput(activities=2, timers=0, wait_seconds=60)
    assert history_events(waiting, completed=False) == 4 + 12 + 1
    for length in (11, 23, 57, 101, 244):
        shape = shape_for_length(length)
        assert abs(history_events(shape, completed=True) - length) <= 2


def test_memory_per_case_counts_only_the_cases_the_cache_can_hold_as_cached() -> None:
    run = MemoryRun(cache=100, cases=1000, rss_before=100 * 2**20, rss_after=130 * 2**20, db_before=0,
                    db_after=28 * 1024 * 1000)
    assert run.newly_cached == 100 - WARMUP
    assert run.rss_per_case == pytest.approx(30 * 2**20 / 1000)
    assert run.db_per_case == pytest.approx(28 * 1024)
    assert MemoryRun(1000, 2000, 0, 1, 0, 0).newly_cached == 1000 - WARMUP
    assert MemoryRun(10, 100, 0, 1, 0, 0).rss_per_cached_case is None
