"""Policy as configuration: the default file, validation, and the snapshot of closed days a case carries."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from domain.events import RepresentativeRole
from domain.policy import (
    DEFAULT_POLICY_PATH,
    LadderStepKind,
    Policy,
    PolicyError,
    PolicySnapshot,
    load_policy,
    snapshot,
)
from tests.factories import default_policy, pinned_policy

DEFAULT_TOML = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the default file ----------------------------------------------------------------------------------------
def test_default_policy_file_loads() -> None:
    policy = load_policy()
    assert policy == load_policy(DEFAULT_POLICY_PATH)
    assert policy.name == "copenhagen-2026"
    assert policy.answer_deadline_days == 8
    assert policy.paper_delivery_working_days == 3
    assert (policy.office_hours.opens, policy.office_hours.closes) == (time(8, 0), time(15, 0))
    assert policy.calendar.country == "DK"
    assert policy.calendar.timezone == "Europe/Copenhagen"
    assert set(policy.calendar.extra_closed_days) == {"06-05", "12-24", "12-31"}
    assert policy.extended_hearing_for == ("aktivitetsparat",)
    assert policy.min_home_visits == 1
    assert policy.contact_representative_roles == (
        RepresentativeRole.mentor,
        RepresentativeRole.stoettekontaktperson,
        RepresentativeRole.social_services,
    )
    assert set(policy.sanction_allowed_for) == {"jobparat", "uddannelsesparat", "aktivitetsparat"}
    assert policy.require_guidance is True
    assert policy.deduction_limit_months == 3
    assert policy.nemsms_max_chars == 150


def test_default_ladder_follows_copenhagen_practice() -> None:
    ladder = default_policy().ladder
    assert [s.kind for s in ladder] == [
        LadderStepKind.inbound_check,
        LadderStepKind.phone_call,
        LadderStepKind.nemsms,
        LadderStepKind.email,
        LadderStepKind.representative,
        LadderStepKind.home_visit,
    ]
    by_kind = {s.kind: s for s in ladder}
    assert by_kind[LadderStepKind.phone_call].attempts >= 1  # "one or more attempts"
    assert by_kind[LadderStepKind.nemsms].attempts == 3  # up to 3 NemSMS
    assert by_kind[LadderStepKind.home_visit].attempts >= 1  # at least one home visit, always
    assert by_kind[LadderStepKind.home_visit] == ladder[-1]


def test_pinned_test_policy_has_the_default_ladder_order() -> None:
    assert [s.kind for s in pinned_policy().ladder] == [s.kind for s in default_policy().ladder]


# -- invalid files -------------------------------------------------------------------------------------------
def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(PolicyError, match=r"cannot read policy file .*nope\.toml"):
        load_policy(missing)


def test_not_toml_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="is not valid TOML"):
        load_policy(write(tmp_path, "answer_deadline_days = = 8\n"))


def test_opens_after_closes_is_a_policy_error(tmp_path: Path) -> None:
    text = DEFAULT_TOML.replace("opens = 08:00:00", "opens = 16:00:00")
    assert text != DEFAULT_TOML
    with pytest.raises(PolicyError) as info:
        load_policy(write(tmp_path, text))
    message = str(info.value)
    assert "is invalid" in message
    assert "office_hours.opens must be before office_hours.closes" in message


def test_opens_equal_to_closes_is_invalid() -> None:
    with pytest.raises(ValueError, match=r"office_hours\.opens must be before office_hours\.closes"):
        pinned_policy(office_hours={"opens": time(9, 0), "closes": time(9, 0)})


def test_too_few_home_visits_for_min_home_visits(tmp_path: Path) -> None:
    text = DEFAULT_TOML.replace("min_home_visits = 1", "min_home_visits = 2")
    assert text != DEFAULT_TOML
    with pytest.raises(PolicyError, match=r"ladder has 1 home visit attempt\(s\) but min_home_visits is 2"):
        load_policy(write(tmp_path, text))


def test_a_ladder_without_home_visit_is_invalid_while_someone_gets_the_extended_hearing() -> None:
    ladder = [{"kind": "inbound_check"}, {"kind": "phone_call", "attempts": 2}]
    with pytest.raises(ValueError, match=r"ladder has 0 home visit attempt\(s\) but min_home_visits is 1"):
        pinned_policy(ladder=ladder)
    # ... but fine when nobody gets the extended hearing (the 2027 reform might do that)
    assert pinned_policy(ladder=ladder, extended_hearing_for=[]).ladder[-1].kind == LadderStepKind.phone_call


def test_home_visits_may_be_spread_over_steps() -> None:
    ladder = [{"kind": "home_visit", "attempts": 1}, {"kind": "email"}, {"kind": "home_visit", "attempts": 1}]
    assert pinned_policy(ladder=ladder, min_home_visits=2).min_home_visits == 2


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("answer_deadline_days = 8", "answer_deadline_days = 0", "answer_deadline_days"),
        ("nemsms_max_chars = 150", "nemsms_max_chars = 500", "nemsms_max_chars"),
        ('kind = "email"', 'kind = "carrier_pigeon"', "ladder.3.kind"),
        (
            'extra_closed_days = ["06-05", "12-24", "12-31"]',
            'extra_closed_days = ["5 June"]',
            "calendar.extra_closed_days.0",
        ),
        (
            'contact_representative_roles = ["mentor"',
            'contact_representative_roles = ["neighbour"',
            "contact_representative_roles.0",
        ),
        ("min_home_visits = 1", "min_home_visits = 1\nhome_visit_minutes = 30", "home_visit_minutes"),
    ],
)
def test_invalid_values_are_policy_errors_naming_the_field(
    tmp_path: Path, old: str, new: str, needle: str
) -> None:
    text = DEFAULT_TOML.replace(old, new)
    assert text != DEFAULT_TOML
    with pytest.raises(PolicyError, match="is invalid") as info:
        load_policy(write(tmp_path, text))
    assert needle in str(info.value)


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, ValueError)


def test_policy_is_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        default_policy().answer_deadline_days = 10  # type: ignore[misc]


# -- the snapshot --------------------------------------------------------------------------------------------
EXPECTED_2026 = {
    date(2026, 1, 1),  # Nytårsdag
    date(2026, 4, 2),  # Skærtorsdag
    date(2026, 4, 3),  # Langfredag
    date(2026, 4, 5),  # Påskedag
    date(2026, 4, 6),  # 2. påskedag
    date(2026, 5, 14),  # Kristi himmelfartsdag
    date(2026, 5, 24),  # Pinsedag
    date(2026, 5, 25),  # 2. pinsedag
    date(2026, 6, 5),  # Grundlovsdag (policy)
    date(2026, 12, 24),  # Juleaftensdag (policy)
    date(2026, 12, 25),  # Juledag
    date(2026, 12, 26),  # 2. juledag
    date(2026, 12, 31),  # Nytårsaftensdag (policy)
}


def test_snapshot_2026_closed_days() -> None:
    snap = snapshot(default_policy(), 2026, 1)
    assert set(snap.closed_days) == EXPECTED_2026


def test_snapshot_spans_the_years_asked_for_sorted_and_unique() -> None:
    snap = snapshot(default_policy(), 2026)
    days = list(snap.closed_days)
    assert days == sorted(set(days))
    assert {d.year for d in days} == {2026, 2027, 2028}
    assert days[0] == date(2026, 1, 1)
    assert days[-1] == date(2028, 12, 31)
    assert {d for d in days if d.year == 2026} == EXPECTED_2026
    assert date(2027, 3, 26) in days  # Langfredag 2027
    assert snap.policy == default_policy()


def test_snapshot_has_no_store_bededag_from_2024() -> None:
    days = set(snapshot(default_policy(), 2023, 2).closed_days)
    assert date(2023, 5, 5) in days
    assert date(2024, 4, 26) not in days


def test_snapshot_respects_extra_closed_days() -> None:
    policy = pinned_policy(
        calendar={"country": "DK", "timezone": "Europe/Copenhagen", "extra_closed_days": ["12-24", "08-03"]}
    )
    days = set(snapshot(policy, 2026, 1).closed_days)
    assert date(2026, 12, 24) in days
    assert date(2026, 8, 3) in days
    assert date(2026, 6, 5) not in days
    assert date(2026, 12, 31) not in days
    assert days - {date(2026, 8, 3)} == EXPECTED_2026 - {date(2026, 6, 5), date(2026, 12, 31)}


def test_snapshot_with_no_extra_closed_days_has_only_public_holidays() -> None:
    policy = pinned_policy(
        calendar={"country": "DK", "timezone": "Europe/Copenhagen", "extra_closed_days": []}
    )
    assert set(snapshot(policy, 2026, 1).closed_days) == EXPECTED_2026 - {
        date(2026, 6, 5),
        date(2026, 12, 24),
        date(2026, 12, 31),
    }


def test_snapshot_survives_a_json_round_trip() -> None:
    snap = snapshot(default_policy(), 2026)
    again = PolicySnapshot.model_validate_json(snap.model_dump_json())
    assert again == snap
    assert isinstance(again.policy, Policy)
