"""Bad and hostile input, generated: whatever a jobcenter export holds, every line is accepted, recognised as a
duplicate, or rejected with a reason; nothing crashes, no good line is lost, no CPR number is echoed.

Pure parts (parsing, reading, ordering, rejects) against a reference model with a fake gateway; the
Temporal side (forged outcomes, closed cases, out-of-order events) in tests/test_intake_hostile.py.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.events import EventError, MeetingMissed, parse_event
from intake.events import Intake
from intake.gateway import DeliverableEvent, Outcome
from intake.reader import read_lines_async
from intake.rejects import RejectsFile, raw_lines
from tests.factories import CPR, citizen_data, meeting_missed_data

CPR_SHAPES = re.compile(r"\d{10}|\d{6}-\d{4}")
"""Anything that looks like a CPR number, as the log redaction sees it."""
AT = "2026-03-04T10:00:00+01:00"
PURE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from([CPR, f"{CPR[:6]}-{CPR[6:]}", "", " ", "9" * 40]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
one_line_text = st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")), max_size=80)


def good_events(meeting: str) -> list[dict[str, Any]]:
    """A case's events in a lawful order: start, answer, turn up, caseworker's call outcome."""
    base = {"meeting_id": meeting, "occurred_at": AT}
    return [
        meeting_missed_data(meeting_id=meeting, event_id=f"{meeting}-m"),
        base | {"event_id": f"{meeting}-r", "type": "citizen_responded", "channel": "letter",
                "explanation": "Jeg var på hospitalet", "reasonable_cause": "hospitalised"},
        base | {"event_id": f"{meeting}-a", "type": "citizen_attended"},
        base | {"event_id": f"{meeting}-t", "type": "task_completed", "task": "phone_call", "outcome": "reached",
                "by": "cw-1"},
    ]


ENUM_FIELDS = ("type", "ground", "channel", "task", "outcome")


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A good event with one thing wrong: a wrong type, a missing or unknown field, an unknown enum value,
    a huge text, or a citizen with a malformed CPR number or an unknown readiness."""
    event = dict(draw(st.sampled_from(good_events("M-mut"))))
    field = draw(st.sampled_from(sorted(event)))
    match draw(st.sampled_from(["wrong_type", "missing", "unknown_field", "enum", "huge", "citizen"])):
        case "wrong_type":
            event[field] = draw(json_values)
        case "missing":
            del event[field]
        case "unknown_field":
            event[draw(st.sampled_from(["priority", "cpr", CPR, "x" * 300]))] = draw(json_values)
        case "enum":
            event[draw(st.sampled_from(ENUM_FIELDS))] = draw(st.text(max_size=20))
        case "huge":
            event[draw(st.sampled_from(["explanation", "note", "event_id", "meeting_id"]))] = (
                draw(st.sampled_from(["x", "ø", CPR])) * draw(st.integers(4001, 200_000)))
        case _:
            citizen = citizen_data(**{draw(st.sampled_from(["cpr", "readiness", "digital_post", "phone"])):
                                      draw(json_values | st.just(f"{CPR[:6]}-{CPR[6:]}"))})
            event = meeting_missed_data(meeting_id="M-mut", citizen=citizen)
    return event


def no_cpr(text: str) -> bool:
    return CPR_SHAPES.search(text) is None


@PURE
@given(st.one_of(one_line_text, json_values.map(json.dumps), st.binary(max_size=60).map(repr)))
def test_anything_parses_or_is_refused_with_a_reason(line: str) -> None:
    try:
        parse_event(line)
    except EventError as exc:
        assert str(exc)


@PURE
@given(mutated())
def test_a_broken_event_is_refused_by_field_never_by_value(event: dict[str, Any]) -> None:
    try:
        parsed = parse_event(json.dumps(event, ensure_ascii=False))
    except EventError as exc:
        message = str(exc)
        assert message and len(message) < 2000
        keys = set(event) | set(event.get("citizen", {}) if isinstance(event.get("citizen"), dict) else {})
        if not any(CPR_SHAPES.search(str(k)) for k in keys):  # a field *named* like a CPR is the intake's job
            assert no_cpr(message), message
        return
    # what passes is an event within the contract's bounds
    assert len(parsed.event_id) <= 200 and len(parsed.meeting_id) <= 100
    if isinstance(parsed, MeetingMissed):
        assert re.fullmatch(r"\d{10}", parsed.citizen.cpr)


class ModelGateway:
    """Temporal as the intake sees it: cases exist once started; events for other meetings are refused."""

    def __init__(self) -> None:
        self.started: set[str] = set()
        self.delivered: list[str] = []

    async def start_case(self, event: MeetingMissed) -> Outcome:
        if event.meeting_id in self.started:
            return Outcome("duplicate", f"case for meeting {event.meeting_id} already exists")
        self.started.add(event.meeting_id)
        return Outcome("started")

    async def deliver(self, event: DeliverableEvent) -> Outcome:
        if event.meeting_id not in self.started:
            return Outcome("rejected", f"no case for meeting {event.meeting_id}")
        self.delivered.append(event.event_id)
        return Outcome("delivered")


@dataclass
class Expected:
    """The reference model's verdict on a whole input."""

    kinds: Counter[str]
    rejected_lines: list[str]
    delivered: list[str]


def expect(lines: list[str]) -> Expected:
    """What the contract says should become of each line, computed line by line in input order."""
    kinds: Counter[str] = Counter()
    rejected, delivered, seen, started = [], [], set(), set()
    for line in lines:
        try:
            event = parse_event(line)
        except EventError:
            kinds["rejected"] += 1
            rejected.append(line)
            continue
        if event.event_id in seen:
            kinds["duplicate"] += 1
        elif isinstance(event, MeetingMissed) and CPR in event.meeting_id + event.case_id:
            kinds["rejected"] += 1
            rejected.append(line)
        elif isinstance(event, MeetingMissed):
            kinds["duplicate" if event.meeting_id in started else "started"] += 1
            started.add(event.meeting_id)
        elif event.meeting_id in started:
            kinds["delivered"] += 1
            delivered.append(event.event_id)
        else:
            kinds["rejected"] += 1
            rejected.append(line)
        seen.add(event.event_id)
    return Expected(kinds, rejected, delivered)


@st.composite
def hostile_inputs(draw: st.DrawFn) -> list[str]:
    """Good cases in some order (out of order too), mixed with garbage, broken events, repeats, events for a
    meeting without a case and a meeting id that holds the CPR number."""
    meetings = [f"M-{n}" for n in range(draw(st.integers(1, 3)))]
    good = [json.dumps(e, ensure_ascii=False) for m in meetings for e in good_events(m)]
    if draw(st.booleans()):
        good = draw(st.permutations(good))
    extras = draw(st.lists(st.one_of(
        one_line_text, mutated().map(lambda e: json.dumps(e, ensure_ascii=False)),
        st.sampled_from(good),
        st.just(json.dumps({"event_id": "ghost", "type": "contact_restored", "occurred_at": AT,
                            "meeting_id": "M-nobody"})),
        st.just(json.dumps(meeting_missed_data(meeting_id=f"M-{CPR}", event_id="cpr-in-id"))),
    ), max_size=12))
    lines = list(good)
    for extra in extras:
        lines.insert(draw(st.integers(0, len(lines))), extra)
    return [line for line in lines if line.strip()]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_inputs())
async def test_every_line_is_accounted_for_and_no_good_line_is_lost(lines: list[str]) -> None:
    want = expect(lines)
    gateway, err = ModelGateway(), io.StringIO()
    data = "".join(f"{line}\n" for line in lines).encode("utf-8")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "events.rejects.jsonl"
        with RejectsFile(path, "events.jsonl") as rejects:
            summary = await Intake(gateway, rejects=rejects, err=err, concurrency=4).run(
                read_lines_async(io.BytesIO(data), threaded=False))
        kept = raw_lines(path) if path.exists() else []
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        records = [json.loads(r) for r in text.split("\n") if r]  # not splitlines(): U+0085 is no line end

    got = Counter({"started": summary.started, "delivered": summary.delivered, "duplicate": summary.duplicates,
                   "rejected": summary.rejected})
    assert +got == +want.kinds and summary.read == len(lines)
    assert sorted(gateway.delivered) == sorted(want.delivered)  # every good event reached its case, once
    assert kept == want.rejected_lines  # every rejected line kept verbatim, in order
    assert all(r["reason"] and no_cpr(r["reason"]) for r in records)
    reported = err.getvalue().splitlines()
    assert len(reported) == summary.rejected and no_cpr(err.getvalue())  # one line each, whatever the input
    assert all(re.match(r"line \d+: \S", r) for r in reported)
    assert summary.exit_code == (2 if summary.rejected else 0)


async def test_a_field_name_cannot_forge_a_report_line(tmp_path: Path) -> None:
    """Unknown fields are named in the reason, and a name is input: one with a line break in it must not
    start a line of its own on stderr (found by the property above)."""
    forged = {"event_id": "e-1", "type": "contact_restored", "occurred_at": AT, "meeting_id": "M-1",
              "x\nline 99: accepted": 1, "\u2028y": 2, "z" * 500: 3}
    err = io.StringIO()
    with RejectsFile(tmp_path / "r.jsonl", "events.jsonl") as rejects:
        summary = await Intake(ModelGateway(), rejects=rejects, err=err).run(
            read_lines_async(io.BytesIO(json.dumps(forged).encode() + b"\n"), threaded=False))
    assert summary.rejected == 1
    assert err.getvalue().splitlines() == [
        "line 1: x\\u000aline 99: accepted: unknown field; \\u2028y: unknown field; " + "z" * 60 + "...: unknown field"]
