"""Jobcenter events (contract.md): every type parses; every malformed line is an EventError that names the
field and never echoes personal data or other input values."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from domain.events import (
    Citizen,
    CitizenAttended,
    CitizenResponded,
    ContactRestored,
    EventError,
    MeetingMissed,
    TaskAssigned,
    TaskCompleted,
    TaskKind,
    parse_event,
)
from tests.factories import CPR, citizen_data, meeting_missed_data, representative_data

NAME = "Jens Hansen"
ADDRESS = "Nørrebrogade 1, 2200 København N"
PHONE = "+4512345678"
EMAIL = "jens@example.dk"

# The contract's example lines, with a real time where the contract writes "...".
CONTRACT_LINES = [
    '{"event_id": "e-1", "type": "meeting_missed", "occurred_at": "2026-03-02T10:00:00+01:00", '
    '"meeting_id": "M-1", "case_id": "K-2026-0001", "ground": "jobsamtale", '
    '"citizen": {"cpr": "0101901234", "name": "Jens Hansen", "address": "Nørrebrogade 1, 2200 København N", '
    '"readiness": "aktivitetsparat", "digital_post": "registered", "nemsms": true, '
    '"phone": "+4512345678", "email": "jens@example.dk", "guidance_given_on": "2025-12-01", '
    '"representatives": [{"role": "mentor", "name": "Anna Berg", "phone": "+4587654321"}]}}',
    '{"event_id": "e-2", "type": "citizen_responded", "occurred_at": "2026-03-05T11:00:00+01:00", '
    '"meeting_id": "M-1", "channel": "letter", "explanation": "I was in hospital", '
    '"reasonable_cause": "illness"}',
    '{"event_id": "e-3", "type": "citizen_attended", "occurred_at": "2026-03-05T11:00:00+01:00", '
    '"meeting_id": "M-1"}',
    '{"event_id": "e-4", "type": "contact_restored", "occurred_at": "2026-03-05T11:00:00+01:00", '
    '"meeting_id": "M-1"}',
    '{"event_id": "e-5", "type": "task_completed", "occurred_at": "2026-03-05T11:00:00+01:00", '
    '"meeting_id": "M-1", "task": "home_visit", "outcome": "no_contact", "by": "cw-17", '
    '"note": "nobody home"}',
]


def line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


def task_line(task: str, outcome: str, **extra: Any) -> str:
    return line(
        {
            "event_id": "e-9",
            "type": "task_completed",
            "occurred_at": "2026-03-05T11:00:00+01:00",
            "meeting_id": "M-1",
            "task": task,
            "outcome": outcome,
            **extra,
        }
    )


def rejected(raw: str) -> str:
    """The EventError message for a line, checked to be free of personal data."""
    with pytest.raises(EventError) as info:
        parse_event(raw)
    message = str(info.value)
    for secret in (CPR, NAME, ADDRESS, PHONE, EMAIL, "Nørrebrogade"):
        assert secret not in message
    return message


# -- valid lines ---------------------------------------------------------------------------------------------
def test_contract_meeting_missed_example_parses() -> None:
    ev = parse_event(CONTRACT_LINES[0])
    assert isinstance(ev, MeetingMissed)
    assert ev.event_id == "e-1"
    assert ev.meeting_id == "M-1"
    assert ev.case_id == "K-2026-0001"
    assert ev.ground == "jobsamtale"
    assert ev.occurred_at == datetime.fromisoformat("2026-03-02T10:00:00+01:00")
    assert ev.occurred_at.utcoffset() == timedelta(hours=1)
    c = ev.citizen
    assert (c.cpr, c.name, c.address) == (CPR, NAME, ADDRESS)
    assert (c.readiness, c.digital_post, c.nemsms) == ("aktivitetsparat", "registered", True)
    assert (c.phone, c.email, c.guidance_given_on) == (PHONE, EMAIL, date(2025, 12, 1))
    assert [(r.role, r.name, r.phone) for r in c.representatives] == [("mentor", "Anna Berg", "+4587654321")]


def test_contract_citizen_side_examples_parse() -> None:
    responded = parse_event(CONTRACT_LINES[1])
    assert isinstance(responded, CitizenResponded)
    assert (responded.channel, responded.explanation, responded.reasonable_cause) == (
        "letter",
        "I was in hospital",
        "illness",
    )
    attended = parse_event(CONTRACT_LINES[2])
    assert isinstance(attended, CitizenAttended)
    assert attended.explanation is None
    restored = parse_event(CONTRACT_LINES[3])
    assert isinstance(restored, ContactRestored)
    assert restored.event_id == "e-4"


def test_contract_task_completed_example_parses() -> None:
    ev = parse_event(CONTRACT_LINES[4])
    assert isinstance(ev, TaskCompleted)
    assert (ev.task, ev.outcome, ev.by, ev.note) == (
        TaskKind.home_visit,
        "no_contact",
        "cw-17",
        "nobody home",
    )


def test_minimal_meeting_missed_uses_defaults() -> None:
    citizen = {
        "cpr": CPR,
        "name": NAME,
        "address": ADDRESS,
        "readiness": "jobparat",
        "digital_post": "exempt",
    }
    ev = parse_event(line(meeting_missed_data(citizen=citizen)))
    assert isinstance(ev, MeetingMissed)
    c = ev.citizen
    assert (c.nemsms, c.phone, c.email, c.guidance_given_on, c.representatives) == (
        False,
        None,
        None,
        None,
        [],
    )


@pytest.mark.parametrize("ground", ["jobsamtale", "raadighedsvurdering", "tilbud", "selvbook"])
@pytest.mark.parametrize("readiness", ["jobparat", "uddannelsesparat", "aktivitetsparat"])
@pytest.mark.parametrize("digital_post", ["registered", "exempt", "never_logged_in"])
def test_every_ground_readiness_and_digital_post_status(
    ground: str, readiness: str, digital_post: str
) -> None:
    data = meeting_missed_data(
        ground=ground, citizen=citizen_data(readiness=readiness, digital_post=digital_post)
    )
    ev = parse_event(line(data))
    assert isinstance(ev, MeetingMissed)
    assert (ev.ground, ev.citizen.readiness, ev.citizen.digital_post) == (ground, readiness, digital_post)


def test_every_representative_role() -> None:
    roles = ["mentor", "stoettekontaktperson", "social_services", "family", "partsrepraesentant", "vaerge"]
    reps = [representative_data(r, email=f"{r}@example.dk", address="Vej 1, 2200 København N") for r in roles]
    ev = parse_event(line(meeting_missed_data(citizen=citizen_data(representatives=reps))))
    assert isinstance(ev, MeetingMissed)
    assert [r.role for r in ev.citizen.representatives] == roles
    assert ev.citizen.representatives[0].address == "Vej 1, 2200 København N"


@pytest.mark.parametrize("channel", ["letter", "digital_post", "phone", "email", "in_person"])
def test_every_response_channel(channel: str) -> None:
    ev = parse_event(
        line(
            {
                "event_id": "e-2",
                "type": "citizen_responded",
                "occurred_at": "2026-03-05T11:00:00Z",
                "meeting_id": "M-1",
                "channel": channel,
                "reasonable_cause": None,
            }
        )
    )
    assert isinstance(ev, CitizenResponded)
    assert ev.channel == channel
    assert ev.reasonable_cause is None
    assert ev.occurred_at.utcoffset() == timedelta(0)


CONTRACT_OUTCOMES = {
    "phone_call": ["no_answer", "voicemail", "reached"],
    "representative": ["no_contact", "contact_made"],
    "home_visit": ["no_contact", "contact_made"],
    "decision": ["sanction", "no_sanction_reasonable_cause", "no_sanction_other"],
    "reassessment": ["uphold", "annul"],
    "manual_delivery": ["delivered"],  # added: a letter the channel refused for good, delivered by hand
}


@pytest.mark.parametrize(
    ("task", "outcome"), [(t, o) for t, outcomes in CONTRACT_OUTCOMES.items() for o in outcomes]
)
def test_every_contract_task_outcome_parses(task: str, outcome: str) -> None:
    ev = parse_event(task_line(task, outcome))
    assert isinstance(ev, TaskCompleted)
    assert (ev.task, ev.outcome) == (task, outcome)
    assert ev.by is None


@pytest.mark.parametrize(
    ("task", "outcome"),
    [
        (t, o)
        for t in CONTRACT_OUTCOMES
        for o in sorted({o for os in CONTRACT_OUTCOMES.values() for o in os} - set(CONTRACT_OUTCOMES[t]))
    ],
)
def test_an_outcome_of_another_task_is_rejected(task: str, outcome: str) -> None:
    message = rejected(task_line(task, outcome))
    assert "outcome" in message
    assert outcome not in message  # the offending value is not echoed


def test_events_are_frozen() -> None:
    ev = parse_event(CONTRACT_LINES[3])
    with pytest.raises(ValueError, match="frozen"):
        ev.meeting_id = "M-2"  # type: ignore[misc]


# -- malformed lines -----------------------------------------------------------------------------------------
def mm(**overrides: Any) -> dict[str, Any]:
    return meeting_missed_data(**overrides)


def mm_citizen(**overrides: Any) -> dict[str, Any]:
    return meeting_missed_data(citizen=citizen_data(**overrides))


def without(data: dict[str, Any], *path: str) -> dict[str, Any]:
    target = data
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return data


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("this is not json", "not JSON"),
        ('{"event_id": "e-1", "type": "meeting_missed", "citizen": {"cpr": "0101901234",', "not JSON"),
        ('{"cpr": "0101901234"} trailing', "not JSON"),
        ("", "not JSON"),
        ('["meeting_missed", "0101901234"]', "not a JSON object"),
        ('"0101901234"', "not a JSON object"),
        ("null", "not a JSON object"),
        ('{"event_id": "e-1", "meeting_id": "M-1", "cpr": "0101901234"}', "missing field 'type'"),
        ('{"event_id": "e-1", "type": null}', "missing field 'type'"),
        ('{"event_id": "e-1", "type": 7}', "missing field 'type'"),
    ],
)
def test_lines_that_are_not_event_objects(raw: str, expected: str) -> None:
    assert rejected(raw).startswith(expected)


def test_unknown_type_is_named_but_not_echoed() -> None:
    message = rejected(line(mm(type="meeting_forgotten")))
    assert message == "type: unknown event type"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (without(mm(), "case_id"), "case_id"),
        (without(mm(), "event_id"), "event_id"),
        (without(mm(), "occurred_at"), "occurred_at"),
        (without(mm(), "meeting_id"), "meeting_id"),
        (without(mm(), "ground"), "ground"),
        (without(mm(), "citizen"), "citizen"),
        (without(mm(), "citizen", "cpr"), "citizen.cpr"),
        (without(mm(), "citizen", "readiness"), "citizen.readiness"),
        (without(mm(), "citizen", "digital_post"), "citizen.digital_post"),
        (without(mm_citizen(representatives=[representative_data()]), "citizen", "representatives"), None),
    ],
)
def test_missing_field_is_named(data: dict[str, Any], field: str | None) -> None:
    if field is None:  # representatives is optional: removing it is fine
        assert isinstance(parse_event(line(data)), MeetingMissed)
        return
    assert rejected(line(data)) == f"{field}: missing field"


def test_missing_field_of_a_citizen_side_event_is_named() -> None:
    raw = line(
        {
            "event_id": "e-2",
            "type": "citizen_responded",
            "occurred_at": "2026-03-05T11:00:00+01:00",
            "meeting_id": "M-1",
        }
    )
    assert rejected(raw) == "channel: missing field"


def test_missing_outcome_of_a_task_is_named() -> None:
    raw = line(
        {
            "event_id": "e-5",
            "type": "task_completed",
            "occurred_at": "2026-03-05T11:00:00+01:00",
            "meeting_id": "M-1",
            "task": "home_visit",
        }
    )
    assert rejected(raw) == "outcome: missing field"


@pytest.mark.parametrize(
    ("data", "field", "bad"),
    [
        (mm_citizen(readiness="halvparat"), "citizen.readiness", "halvparat"),
        (mm_citizen(digital_post="e_boks_only"), "citizen.digital_post", "e_boks_only"),
        (mm(ground="frokost"), "ground", "frokost"),
        (mm_citizen(representatives=[representative_data("nabo")]), "citizen.representatives.0.role", "nabo"),
        (mm_citizen(nemsms="maybe"), "citizen.nemsms", "maybe"),
        (mm_citizen(guidance_given_on="2025-13-01"), "citizen.guidance_given_on", "2025-13-01"),
    ],
)
def test_wrong_enum_or_type_is_named_but_not_echoed(data: dict[str, Any], field: str, bad: str) -> None:
    message = rejected(line(data))
    assert message.startswith(f"{field}: ")
    assert bad not in message


@pytest.mark.parametrize(
    ("raw_field", "value"),
    [("channel", "pigeon"), ("task", "coffee_break")],
)
def test_wrong_enum_on_other_events(raw_field: str, value: str) -> None:
    data: dict[str, Any] = {
        "event_id": "e-2",
        "occurred_at": "2026-03-05T11:00:00+01:00",
        "meeting_id": "M-1",
    }
    if raw_field == "channel":
        data |= {"type": "citizen_responded", "channel": value}
    else:
        data |= {"type": "task_completed", "task": value, "outcome": "no_answer"}
    message = rejected(line(data))
    assert message.startswith(f"{raw_field}: ")
    assert value not in message


@pytest.mark.parametrize("meeting_id", ["", "M 1", "../M-1", "M-1/../x", "-M1", "M" * 101, "Mødet-1"])
def test_bad_meeting_id(meeting_id: str) -> None:
    message = rejected(line(mm(meeting_id=meeting_id)))
    assert message == "meeting_id: malformed value"


@pytest.mark.parametrize("meeting_id", ["M-1", "m.2026:17", "A", "M_1-x.y:z"])
def test_good_meeting_ids(meeting_id: str) -> None:
    assert parse_event(line(mm(meeting_id=meeting_id))).meeting_id == meeting_id


@pytest.mark.parametrize(
    "cpr", ["010190-1234", "01019O1234", "010190123", "01019012345", "abcdefghij", "0101901234x"]
)
def test_bad_cpr_is_named_and_never_echoed(cpr: str) -> None:
    message = rejected(line(mm_citizen(cpr=cpr)))
    assert message == "citizen.cpr: malformed value"
    assert cpr not in message
    assert cpr[:6] not in message  # not even the birth date part


def test_cpr_as_a_number_is_rejected_without_echo() -> None:
    message = rejected(line(mm_citizen(cpr=101901234)))
    assert message.startswith("citizen.cpr: ")
    assert "101901234" not in message


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (mm(priority="high"), "priority"),
        (mm_citizen(cpr_checked="0101901234"), "citizen.cpr_checked"),
        (
            mm_citizen(representatives=[representative_data(cpr="0101901234")]),
            "citizen.representatives.0.cpr",
        ),
    ],
)
def test_extra_unknown_field_is_named_but_not_echoed(data: dict[str, Any], field: str) -> None:
    assert rejected(line(data)) == f"{field}: unknown field"


def test_extra_field_on_a_task_event() -> None:
    message = rejected(task_line("phone_call", "reached", duration="0101901234"))
    assert message == "duration: unknown field"


def test_wrong_outcome_for_a_task_names_the_outcome() -> None:
    message = rejected(task_line("phone_call", "contact_made"))
    assert "outcome is not one of no_answer, voicemail, reached for task phone_call" in message
    assert "contact_made" not in message


@pytest.mark.parametrize("occurred_at", ["2026-03-02T10:00:00", "2026-03-02 10:00", "2026-03-02"])
def test_naive_datetime_is_rejected(occurred_at: str) -> None:
    message = rejected(line(mm(occurred_at=occurred_at)))
    assert message.startswith("occurred_at: ")
    assert "timezone" in message or "datetime" in message
    assert occurred_at not in message


def test_naive_datetime_message_says_an_offset_is_needed() -> None:
    assert (
        rejected(line(mm(occurred_at="2026-03-02T10:00:00")))
        == "occurred_at: Input should have timezone info"
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "call me maybe"}, "citizen.phone"),
        ({"email": "jens at example"}, "citizen.email"),
        ({"name": ""}, "citizen.name"),
        ({"address": "x" * 201}, "citizen.address"),
    ],
)
def test_malformed_contact_details_are_named_not_echoed(overrides: dict[str, Any], field: str) -> None:
    message = rejected(line(mm_citizen(**overrides)))
    assert message.startswith(f"{field}: ")
    for value in overrides.values():
        if value:
            assert value not in message


def test_several_errors_are_all_named() -> None:
    data = mm_citizen(cpr="123", readiness="x")
    del data["case_id"]
    message = rejected(line(data))
    parts = set(message.split("; "))
    assert parts >= {"case_id: missing field", "citizen.cpr: malformed value"}
    assert any(p.startswith("citizen.readiness: ") for p in parts)


def test_event_error_is_a_value_error() -> None:
    assert issubclass(EventError, ValueError)


# -- personal data stays out of reprs ------------------------------------------------------------------------
def test_citizen_repr_hides_personal_data() -> None:
    reps = [representative_data("mentor", name="Anna Berg", email="anna@example.dk", address="Vej 2")]
    citizen = Citizen.model_validate(citizen_data(representatives=reps))
    for text in (repr(citizen), str(citizen)):
        for secret in (
            CPR,
            NAME,
            ADDRESS,
            PHONE,
            EMAIL,
            "Anna Berg",
            "anna@example.dk",
            "Vej 2",
            "+4587654321",
        ):
            assert secret not in text
        assert "jobparat" in text  # not personal: the repr still says something


def test_event_repr_hides_personal_data() -> None:
    ev = parse_event(CONTRACT_LINES[0])
    text = repr(ev)
    for secret in (CPR, NAME, ADDRESS, PHONE, EMAIL, "Anna Berg"):
        assert secret not in text
    assert "M-1" in text


def test_task_kind_covers_the_contract() -> None:
    assert {t.value for t in TaskKind} == set(CONTRACT_OUTCOMES)


def test_task_assigned_names_a_caseworker_or_hands_the_task_back() -> None:
    base = {"event_id": "a-1", "type": "task_assigned", "occurred_at": "2026-03-12T09:00:00+01:00",
            "meeting_id": "M-1", "task": "home_visit", "by": "tl-ef"}
    taken = parse_event(json.dumps({**base, "assignee": "kw-ab"}))
    assert isinstance(taken, TaskAssigned) and taken.assignee == "kw-ab"
    handed_back = parse_event(json.dumps({**base, "assignee": None}))
    assert isinstance(handed_back, TaskAssigned) and handed_back.assignee is None
    with pytest.raises(EventError, match=r"^assignee: malformed value$"):
        parse_event(json.dumps({**base, "assignee": "Anna Berg, 0101801234"}))  # a user id, never a name or CPR
    with pytest.raises(EventError, match=r"^assignee: missing field$"):
        parse_event(json.dumps(base))
