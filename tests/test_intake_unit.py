"""The event intake without Temporal: reading, rejecting, ordering, reporting, exit codes.

A fake gateway stands in for Temporal here because these are the intake's own decisions: which lines are
bad and why, what reaches stderr and the rejects file, in which order, and which exit code follows.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any, cast

import pytest
import structlog
from temporalio.client import Client

from domain.events import MeetingMissed
from intake.events import Intake, Summary, run_events
from intake.gateway import DeliverableEvent, IntakeHalted, Outcome
from intake.reader import SourceLine, decode_line, read_lines, read_lines_async, rejects_path_for
from intake.rejects import RejectsFile, raw_lines, redact
from tests.factories import CPR, citizen_data, default_policy, meeting_missed_data

AT = "2026-03-04T10:00:00+01:00"
NO_CLIENT = cast(Client, object())
"""For runs whose lines never reach Temporal (all rejected while parsing)."""


def line_of(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


def responded(event_id: str, meeting_id: str) -> str:
    return line_of({"event_id": event_id, "type": "citizen_responded", "occurred_at": AT,
                    "meeting_id": meeting_id, "channel": "phone"})


def missed(meeting_id: str, event_id: str | None = None) -> str:
    data = meeting_missed_data(meeting_id=meeting_id)
    if event_id:
        data["event_id"] = event_id
    return line_of(data)


class FakeGateway:
    """Records calls; refuses events for meetings it has not started, like Temporal would."""

    def __init__(self, *, delay: float = 0.0, halt_on: str | None = None) -> None:
        self.calls: dict[str, list[str]] = defaultdict(list)
        self.started: set[str] = set()
        self.delay = delay
        self.halt_on = halt_on
        self.in_flight = 0
        self.max_in_flight = 0

    async def _enter(self, meeting: str, event_id: str) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(random.uniform(0, self.delay))
            if event_id == self.halt_on:
                raise IntakeHalted("Temporal refused the event (UNAVAILABLE): connection refused")
            self.calls[meeting].append(event_id)
        finally:
            self.in_flight -= 1

    async def start_case(self, event: MeetingMissed) -> Outcome:
        await self._enter(event.meeting_id, event.event_id)
        if event.meeting_id in self.started:
            return Outcome("duplicate", f"case for meeting {event.meeting_id} already exists")
        self.started.add(event.meeting_id)
        return Outcome("started")

    async def deliver(self, event: DeliverableEvent) -> Outcome:
        await self._enter(event.meeting_id, event.event_id)
        if event.meeting_id not in self.started:
            return Outcome("rejected", f"no case for meeting {event.meeting_id}")
        return Outcome("delivered")


async def run_lines(lines: list[str], tmp_path: Path, gateway: FakeGateway | None = None,
                    concurrency: int = 8) -> tuple[Summary, str, Path]:
    source = tmp_path / "events.jsonl"
    source.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    err = io.StringIO()
    rejects = RejectsFile(rejects_path_for(str(source)), str(source))
    intake = Intake(gateway or FakeGateway(), rejects=rejects, err=err, concurrency=concurrency)
    with rejects, source.open("rb") as stream:
        summary = await intake.run(read_lines_async(stream, threaded=False))
    return summary, err.getvalue(), rejects.path


# -- reading -----------------------------------------------------------------------------------------------
def test_lines_keep_their_numbers_and_text_and_blank_lines_are_skipped() -> None:
    data = b'\xef\xbb\xbf{"a": 1}\r\n\n   \n{"b": 2}  \nlast without newline'
    lines = list(read_lines(io.BytesIO(data)))
    assert [(line.number, line.raw) for line in lines] == [
        (1, '{"a": 1}'), (4, '{"b": 2}  '), (5, "last without newline"),
    ]


def test_a_line_that_is_not_utf8_is_kept_visibly_and_marked() -> None:
    line = decode_line(7, b'{"name": "J\xf8rgen"}\n')
    assert line is not None and line.decode_error
    assert line.raw == '{"name": "J\\xf8rgen"}'


async def test_stdin_is_read_off_the_event_loop_with_the_same_numbering() -> None:
    stream = io.BytesIO(b'first\n\nthird\n')
    got = [line async for line in read_lines_async(stream, threaded=True)]
    assert got == [SourceLine(1, "first"), SourceLine(3, "third")]


@pytest.mark.parametrize(("source", "expected"), [
    ("events.jsonl", "events.jsonl.rejects.jsonl"),
    ("in/batch-7.json", "in/batch-7.json.rejects.jsonl"),
    ("in/export.txt", "in/export.txt.rejects.jsonl"),
    ("-", "rejects.jsonl"),
])
def test_rejects_file_sits_next_to_its_input(source: str, expected: str) -> None:
    assert rejects_path_for(source) == Path(expected)


def test_redact_removes_cpr_shaped_numbers_only() -> None:
    assert redact(f"field {CPR}: unknown; 010190-1234 too") == "field [CPR]: unknown; [CPR] too"
    assert redact("meeting M-2026-0001, 12345678901 digits") == "meeting M-2026-0001, 12345678901 digits"


# -- rejecting ---------------------------------------------------------------------------------------------
async def test_bad_lines_are_reported_by_number_kept_whole_and_never_show_a_cpr(tmp_path: Path) -> None:
    not_json = f"meeting_missed;M-9;K-9;{CPR};Jens Hansen"
    cpr_as_field = line_of({"event_id": "x1", "type": "contact_restored", "occurred_at": AT,
                            "meeting_id": "M-1", CPR: "oops"})
    old_category = citizen_data(readiness="arbejdsmarkedsparat")
    bad_readiness = line_of(meeting_missed_data(meeting_id="M-2", citizen=old_category))
    cpr_in_meeting_id = missed(f"M-{CPR}")
    lines = [
        missed("M-1"),                                  # 1 started
        not_json,                                       # 2 not JSON
        cpr_as_field,                                   # 3 unknown field named after a CPR number
        line_of({"event_id": "x2", "type": "meeting_rescheduled", "occurred_at": AT,
                 "meeting_id": "M-1"}),                 # 4 unknown type
        bad_readiness,                                  # 5 bad enum
        responded("r-1", "M-404"),                      # 6 no case
        cpr_in_meeting_id,                              # 7 workflow id would hold the CPR
        responded("r-2", "M-1"),                        # 8 delivered
    ]
    with structlog.testing.capture_logs() as logs:
        summary, err, rejects_path = await run_lines(lines, tmp_path)

    assert (summary.read, summary.started, summary.delivered, summary.rejected) == (8, 1, 1, 6)
    assert summary.exit_code == 2
    reported = err.splitlines()
    assert [line.split(":")[0] for line in reported] == [f"line {n}" for n in range(2, 8)]
    assert reported[0].startswith("line 2: not JSON")
    assert reported[1] == "line 3: [CPR]: unknown field"
    assert "type: unknown event type" in reported[2]
    assert "citizen.readiness" in reported[3]
    assert reported[4] == "line 6: no case for meeting M-404"
    assert reported[5] == "line 7: meeting_id or case_id contains the citizen's CPR number"
    assert CPR not in err
    assert CPR not in json.dumps(logs, default=str)

    assert rejects_path.stat().st_mode & 0o077 == 0  # the kept lines are personal data: owner only
    records = [json.loads(r) for r in rejects_path.read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in records] == [2, 3, 4, 5, 6, 7]
    assert [r["raw"] for r in records] == [lines[n - 1] for n in (2, 3, 4, 5, 6, 7)]
    assert raw_lines(rejects_path) == [lines[n - 1] for n in (2, 3, 4, 5, 6, 7)]
    assert records[4]["reason"] == "no case for meeting M-404"
    assert all(r["source"].endswith("events.jsonl") and r["rejected_at"] for r in records)


async def test_repeated_event_ids_in_one_input_are_duplicates_and_do_nothing(tmp_path: Path) -> None:
    gateway = FakeGateway()
    lines = [missed("M-1"), responded("r-1", "M-1"), responded("r-1", "M-1"), missed("M-1")]
    summary, err, rejects_path = await run_lines(lines, tmp_path, gateway)
    assert (summary.started, summary.delivered, summary.duplicates, summary.rejected) == (1, 1, 2, 0)
    assert gateway.calls["M-1"] == ["e-M-1", "r-1"]  # the repeated ids never reached Temporal
    assert summary.exit_code == 0 and err == "" and not rejects_path.exists()


async def test_same_meeting_in_input_order_other_meetings_concurrently(tmp_path: Path) -> None:
    random.seed(7)
    gateway = FakeGateway(delay=0.005)
    lines: list[str] = []
    expected: dict[str, list[str]] = defaultdict(list)
    for m in range(20):
        lines.append(missed(f"M-{m}"))
        expected[f"M-{m}"].append(f"e-M-{m}")
    for n in range(100):
        meeting = f"M-{n % 20}"
        lines.append(responded(f"r-{n}", meeting))
        expected[meeting].append(f"r-{n}")
    lines.append(responded("r-late", "M-404"))
    expected["M-404"].append("r-late")
    summary, err, _ = await run_lines(lines, tmp_path, gateway, concurrency=6)
    assert gateway.calls == expected
    assert 1 < gateway.max_in_flight <= 6
    assert (summary.started, summary.delivered, summary.rejected) == (20, 100, 1)
    assert err == f"line {len(lines)}: no case for meeting M-404\n"


async def test_messages_come_in_line_order_even_when_later_lines_finish_first(tmp_path: Path) -> None:
    class SlowFirst(FakeGateway):
        async def deliver(self, event: DeliverableEvent) -> Outcome:
            if event.meeting_id == "M-slow":
                await asyncio.sleep(0.05)
            return await super().deliver(event)

    lines = [responded("r-1", "M-slow"), responded("r-2", "M-a"), responded("r-3", "M-b")]
    _, err, rejects_path = await run_lines(lines, tmp_path, SlowFirst())
    assert [line.split(":")[0] for line in err.splitlines()] == ["line 1", "line 2", "line 3"]
    assert raw_lines(rejects_path) == lines


async def test_an_unusable_temporal_stops_the_run_with_exit_1(tmp_path: Path) -> None:
    gateway = FakeGateway(halt_on="r-5")
    lines = [missed("M-1"), *[responded(f"r-{n}", "M-1") for n in range(1, 10_001)]]
    summary, err, rejects_path = await run_lines(lines, tmp_path, gateway, concurrency=2)
    assert summary.exit_code == 1
    assert summary.halted_at == 6
    first = err.splitlines()[0]
    assert first == "line 6: stopped: Temporal refused the event (UNAVAILABLE): connection refused"
    assert summary.read < 1000  # stopped reading soon after, instead of failing line after line
    assert gateway.calls["M-1"] == ["e-M-1", "r-1", "r-2", "r-3", "r-4"]
    assert not rejects_path.exists()
    assert "Running the same input again is safe" in summary.render(None)


# -- the entry point ---------------------------------------------------------------------------------------
async def test_run_events_reports_rejects_and_exit_code_2(tmp_path: Path) -> None:
    source = tmp_path / "batch.jsonl"
    source.write_text(f"not json {CPR}\n\n{{\"type\": \"meeting_missed\"}}\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = await run_events(str(source), NO_CLIENT, policy=default_policy(), out=out, err=err)
    assert code == 2
    assert err.getvalue().splitlines()[0].startswith("line 1: not JSON")
    assert err.getvalue().splitlines()[1].startswith("line 3: ")
    assert CPR not in err.getvalue() + out.getvalue()
    rejects = tmp_path / "batch.jsonl.rejects.jsonl"
    assert "2 rejected" in out.getvalue() and str(rejects) in out.getvalue()
    assert raw_lines(rejects) == [f"not json {CPR}", '{"type": "meeting_missed"}']


async def test_run_events_from_stdin_writes_rejects_jsonl_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    stdin = io.BytesIO(b"{}\n")
    code = await run_events("-", NO_CLIENT, policy=default_policy(), out=out, err=err, stdin=stdin)
    assert code == 2
    assert err.getvalue() == "line 1: missing field 'type'\n"
    assert json.loads((tmp_path / "rejects.jsonl").read_text(encoding="utf-8"))["source"] == "stdin"


async def test_run_events_with_nothing_to_do_exits_0(tmp_path: Path) -> None:
    source = tmp_path / "empty.jsonl"
    source.write_text("\n\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert await run_events(str(source), NO_CLIENT, policy=default_policy(), out=out, err=err) == 0
    assert out.getvalue().startswith("read 0 event line(s)") and err.getvalue() == ""


async def test_run_events_on_a_missing_file_exits_1(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    missing = str(tmp_path / "nope.jsonl")
    code = await run_events(missing, NO_CLIENT, policy=default_policy(), out=out, err=err)
    assert code == 1 and "cannot read" in err.getvalue()


async def test_summary_counts_everything_once(tmp_path: Path) -> None:
    lines = [missed("M-1"), missed("M-1", event_id="e-again"), responded("r-1", "M-1"), "{"]
    summary, _, rejects_path = await run_lines(lines, tmp_path)
    text = summary.render(rejects_path)
    assert text.splitlines() == [
        "read 4 event line(s): 1 case(s) started, 1 event(s) delivered, 1 duplicate(s), 1 rejected",
        f"rejected lines appended to {rejects_path}",
    ]
