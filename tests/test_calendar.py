"""WorkingCalendar: working days, office hours, the answer deadline, paper delivery and the 3-month limit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.calendar import WorkingCalendar
from tests.factories import CPH, cph, default_calendar, pinned_calendar, pinned_policy, snapshot_of

CAL = pinned_calendar()  # 2026-2028, Copenhagen practice
CAL_2023 = WorkingCalendar(snapshot_of(pinned_policy(), 2023, 2))  # 2023-2024: Store Bededag abolished


# -- working days --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "why"),
    [
        (date(2026, 3, 7), "Saturday"),
        (date(2026, 3, 8), "Sunday"),
        (date(2026, 1, 1), "New Year's Day"),
        (date(2026, 4, 2), "Maundy Thursday"),
        (date(2026, 4, 3), "Good Friday"),
        (date(2026, 4, 5), "Easter Sunday"),
        (date(2026, 4, 6), "Easter Monday"),
        (date(2026, 5, 14), "Ascension Day"),
        (date(2026, 5, 25), "Whit Monday"),
        (date(2026, 6, 5), "Constitution Day (policy)"),
        (date(2026, 12, 24), "Christmas Eve (policy)"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 26), "Boxing Day"),
        (date(2026, 12, 31), "New Year's Eve (policy)"),
        (date(2027, 3, 25), "Maundy Thursday 2027"),
        (date(2027, 3, 29), "Easter Monday 2027"),
        (date(2028, 6, 5), "Constitution Day 2028 (Monday)"),
    ],
)
def test_closed_days_are_not_working_days(day: date, why: str) -> None:
    assert CAL.is_working_day(day) is False, why


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 3, 2),  # ordinary Monday
        date(2026, 3, 6),  # ordinary Friday
        date(2026, 4, 1),  # Wednesday before Maundy Thursday
        date(2026, 4, 7),  # Tuesday after Easter Monday
        date(2026, 5, 15),  # Friday after Ascension: a working day
        date(2026, 5, 26),  # Tuesday after Whit Monday
        date(2026, 6, 4),
        date(2026, 12, 23),
        date(2026, 12, 28),
        date(2026, 12, 30),
        date(2027, 1, 4),
    ],
)
def test_ordinary_weekdays_are_working_days(day: date) -> None:
    assert CAL.is_working_day(day) is True


def test_store_bededag_is_no_longer_a_holiday_from_2024() -> None:
    assert CAL_2023.is_working_day(date(2023, 5, 5)) is False  # the last Store Bededag
    assert CAL_2023.is_working_day(date(2024, 4, 26)) is True  # would have been Store Bededag


def test_next_working_day_is_strictly_after() -> None:
    assert CAL.next_working_day(date(2026, 3, 2)) == date(2026, 3, 3)
    assert CAL.next_working_day(date(2026, 3, 6)) == date(2026, 3, 9)  # Friday → Monday
    assert CAL.next_working_day(date(2026, 4, 1)) == date(2026, 4, 7)  # over Easter
    assert CAL.next_working_day(date(2026, 5, 13)) == date(2026, 5, 15)  # over Ascension
    assert CAL.next_working_day(date(2026, 6, 4)) == date(2026, 6, 8)  # 5 June is a Friday in 2026
    assert CAL.next_working_day(date(2026, 12, 23)) == date(2026, 12, 28)  # over Christmas
    assert CAL.next_working_day(date(2026, 12, 30)) == date(2027, 1, 4)  # over New Year


def test_on_or_next_working_day() -> None:
    assert CAL.on_or_next_working_day(date(2026, 3, 2)) == date(2026, 3, 2)
    assert CAL.on_or_next_working_day(date(2026, 3, 7)) == date(2026, 3, 9)


def test_add_working_days() -> None:
    assert CAL.add_working_days(date(2026, 3, 2), 0) == date(2026, 3, 2)
    assert CAL.add_working_days(date(2026, 3, 2), 5) == date(2026, 3, 9)
    assert CAL.add_working_days(date(2026, 3, 31), 3) == date(2026, 4, 8)


def test_default_policy_calendar_matches_the_pinned_one() -> None:
    cal = default_calendar()
    for day in (date(2026, 4, 3), date(2026, 6, 5), date(2026, 12, 24), date(2026, 12, 31)):
        assert cal.is_working_day(day) is False
    assert cal.is_working_day(date(2026, 4, 7)) is True


# -- outside the snapshot ------------------------------------------------------------------------------------
@pytest.mark.parametrize("day", [date(2025, 12, 31), date(2029, 1, 2)])
def test_a_day_outside_the_snapshot_is_a_clear_error(day: date) -> None:
    with pytest.raises(
        ValueError, match=rf"{day.isoformat()} is outside the calendar snapshot \(2026-2028\)"
    ):
        CAL.is_working_day(day)


def test_a_deadline_running_past_the_snapshot_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="outside the calendar snapshot"):
        CAL.answer_deadline(date(2028, 12, 28), 8)


# -- office hours --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (cph(2026, 3, 2, 8, 0), True),
        (cph(2026, 3, 2, 14, 59, 59), True),
        (cph(2026, 3, 2, 15, 0), False),  # closing time is outside
        (cph(2026, 3, 2, 7, 59, 59), False),
        (cph(2026, 3, 7, 10, 0), False),  # Saturday
        (cph(2026, 4, 3, 10, 0), False),  # Good Friday
        (datetime(2026, 3, 2, 7, 0, tzinfo=UTC), True),  # 08:00 in Copenhagen
        (datetime(2026, 3, 2, 14, 30, tzinfo=UTC), False),  # 15:30 in Copenhagen
    ],
)
def test_is_office_time(moment: datetime, open_: bool) -> None:
    assert CAL.is_office_time(moment) is open_


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (cph(2026, 3, 2, 7, 0), cph(2026, 3, 2, 8, 0)),  # before opening
        (cph(2026, 3, 2, 10, 17), cph(2026, 3, 2, 10, 17)),  # open: now
        (cph(2026, 3, 2, 15, 0), cph(2026, 3, 3, 8, 0)),  # at closing: tomorrow
        (cph(2026, 3, 6, 16, 0), cph(2026, 3, 9, 8, 0)),  # Friday evening → Monday
        (cph(2026, 3, 7, 10, 0), cph(2026, 3, 9, 8, 0)),  # Saturday → Monday
        (cph(2026, 4, 1, 16, 0), cph(2026, 4, 7, 8, 0)),  # before Easter → Tuesday after
        (cph(2026, 12, 23, 15, 30), cph(2026, 12, 28, 8, 0)),  # before Christmas
    ],
)
def test_next_office_time(moment: datetime, expected: datetime) -> None:
    got = CAL.next_office_time(moment)
    assert got == expected
    assert got.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("absence", "letter_at"),
    [
        (cph(2026, 3, 2, 10, 0), cph(2026, 3, 3, 8, 0)),  # Monday → Tuesday 08:00
        (cph(2026, 3, 2, 7, 0), cph(2026, 3, 3, 8, 0)),  # early morning: still the next day
        (cph(2026, 3, 6, 10, 0), cph(2026, 3, 9, 8, 0)),  # Friday → Monday
        (cph(2026, 3, 7, 10, 0), cph(2026, 3, 9, 8, 0)),  # Saturday (self-booking) → Monday
        (cph(2026, 4, 1, 10, 0), cph(2026, 4, 7, 8, 0)),  # before Maundy Thursday → after Easter Monday
        (cph(2026, 5, 13, 13, 0), cph(2026, 5, 15, 8, 0)),  # before Ascension
        (cph(2026, 6, 4, 9, 0), cph(2026, 6, 8, 8, 0)),  # before 5 June (a Friday)
        (cph(2026, 12, 23, 9, 0), cph(2026, 12, 28, 8, 0)),  # before Christmas Eve
        # 23:30 UTC on 2 March is 00:30 on 3 March in Copenhagen: the local day counts
        (datetime(2026, 3, 2, 23, 30, tzinfo=UTC), cph(2026, 3, 4, 8, 0)),
    ],
)
def test_first_office_time_after_day_of(absence: datetime, letter_at: datetime) -> None:
    assert CAL.first_office_time_after_day_of(absence) == letter_at


def test_at_uses_the_local_offset_across_dst() -> None:
    assert CAL.at(date(2026, 3, 27), CAL.opens).utcoffset() == timedelta(hours=1)
    assert CAL.at(date(2026, 3, 30), CAL.opens).utcoffset() == timedelta(hours=2)
    assert CAL.at(date(2026, 10, 23), CAL.opens).utcoffset() == timedelta(hours=2)
    assert CAL.at(date(2026, 10, 26), CAL.opens).utcoffset() == timedelta(hours=1)


# -- working hours -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (cph(2026, 3, 2, 9, 0), 2, cph(2026, 3, 2, 11, 0)),
        (cph(2026, 3, 2, 8, 0), 7, cph(2026, 3, 2, 15, 0)),  # a whole office day ends at closing
        (cph(2026, 3, 2, 14, 0), 3.5, cph(2026, 3, 3, 10, 30)),  # over the evening
        (cph(2026, 3, 2, 18, 0), 7, cph(2026, 3, 3, 15, 0)),  # starting in the evening
        (cph(2026, 3, 6, 14, 0), 3.5, cph(2026, 3, 9, 10, 30)),  # over the weekend
        (cph(2026, 3, 7, 10, 0), 2, cph(2026, 3, 9, 10, 0)),  # starting on Saturday
        (cph(2026, 4, 1, 13, 0), 7, cph(2026, 4, 7, 13, 0)),  # over Easter
        (cph(2026, 12, 23, 14, 0), 2, cph(2026, 12, 28, 9, 0)),  # over Christmas
        (cph(2026, 3, 2, 9, 0), 14, cph(2026, 3, 4, 9, 0)),  # two whole office days
        (cph(2026, 3, 27, 14, 0), 2, cph(2026, 3, 30, 9, 0)),  # over the switch to summer time
        (cph(2026, 10, 23, 14, 0), 2, cph(2026, 10, 26, 9, 0)),  # over the switch to winter time
        (cph(2026, 3, 2, 20, 0), 0, cph(2026, 3, 3, 8, 0)),  # zero hours: the next office moment
    ],
)
def test_add_working_hours(start: datetime, hours: float, expected: datetime) -> None:
    got = CAL.add_working_hours(start, hours)
    assert got == expected
    assert got.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (cph(2026, 3, 2, 9, 0), cph(2026, 3, 2, 11, 0), 2.0),
        (cph(2026, 3, 2, 8, 0), cph(2026, 3, 2, 20, 0), 7.0),  # evening does not count
        (cph(2026, 3, 6, 14, 0), cph(2026, 3, 9, 10, 30), 3.5),  # weekend does not count
        (cph(2026, 4, 1, 8, 0), cph(2026, 4, 7, 8, 0), 7.0),  # Easter does not count
        (cph(2026, 3, 2, 11, 0), cph(2026, 3, 2, 9, 0), 0.0),  # end before start
        (cph(2026, 3, 7, 9, 0), cph(2026, 3, 8, 12, 0), 0.0),  # a whole weekend
        (cph(2026, 3, 27, 8, 0), cph(2026, 3, 30, 15, 0), 14.0),  # over the switch to summer time
    ],
)
def test_working_hours_between(start: datetime, end: datetime, hours: float) -> None:
    assert CAL.working_hours_between(start, end) == pytest.approx(hours)


@pytest.mark.parametrize("hours", [0.5, 2, 3.5, 7, 7.5, 20, 45])
@pytest.mark.parametrize(
    "start",
    [cph(2026, 3, 2, 9, 15), cph(2026, 3, 27, 13, 0), cph(2026, 4, 1, 14, 30), cph(2026, 12, 22, 10, 0)],
)
def test_working_hours_between_inverts_add_working_hours(start: datetime, hours: float) -> None:
    end = CAL.add_working_hours(start, hours)
    assert CAL.working_hours_between(start, end) == pytest.approx(hours)


# -- the answer deadline -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("delivered", "last_day"),
    [
        (date(2026, 3, 2), date(2026, 3, 10)),  # delivery day not counted: Monday + 8 = Tuesday
        (date(2026, 3, 3), date(2026, 3, 11)),
        (date(2026, 3, 6), date(2026, 3, 16)),  # + 8 = Saturday → Monday
        (date(2026, 3, 27), date(2026, 4, 7)),  # + 8 = Saturday 4 Apr → over Easter → Tuesday 7 Apr
        (date(2026, 3, 25), date(2026, 4, 7)),  # + 8 = Maundy Thursday
        (date(2026, 5, 6), date(2026, 5, 15)),  # + 8 = Ascension Day → Friday
        (date(2026, 5, 17), date(2026, 5, 26)),  # + 8 = Whit Monday
        (date(2026, 5, 28), date(2026, 6, 8)),  # + 8 = 5 June (Friday) → Monday
        (date(2026, 12, 16), date(2026, 12, 28)),  # + 8 = Christmas Eve → over Christmas
        (date(2026, 12, 23), date(2027, 1, 4)),  # + 8 = New Year's Eve → over New Year
    ],
)
def test_answer_deadline_last_day(delivered: date, last_day: date) -> None:
    deadline = CAL.answer_deadline(delivered, 8)
    assert deadline.last_day == last_day
    assert CAL.is_working_day(deadline.last_day)


def test_answer_deadline_uses_the_days_given() -> None:
    assert CAL.answer_deadline(date(2026, 3, 2), 14).last_day == date(2026, 3, 16)
    assert CAL.answer_deadline(date(2026, 3, 2), 1).last_day == date(2026, 3, 3)


@pytest.mark.parametrize(
    ("delivered", "ends_at", "offset_hours"),
    [
        (date(2026, 3, 2), "2026-03-11T00:00:00+01:00", 1),
        (date(2026, 3, 19), "2026-03-28T00:00:00+01:00", 1),  # last day Fri 27 Mar, still winter time
        (date(2026, 3, 22), "2026-03-31T00:00:00+02:00", 2),  # last day Mon 30 Mar, summer time
        (date(2026, 3, 27), "2026-04-08T00:00:00+02:00", 2),
        (date(2026, 10, 15), "2026-10-24T00:00:00+02:00", 2),  # last day Fri 23 Oct, summer time
        (date(2026, 10, 16), "2026-10-27T00:00:00+01:00", 1),  # last day Mon 26 Oct, winter time
    ],
)
def test_answer_deadline_ends_at_local_midnight(delivered: date, ends_at: str, offset_hours: int) -> None:
    deadline = CAL.answer_deadline(delivered, 8)
    expected = datetime.fromisoformat(ends_at)
    assert deadline.ends_at == expected
    assert deadline.ends_at.utcoffset() == timedelta(hours=offset_hours)
    assert deadline.ends_at.isoformat() == ends_at
    local = deadline.ends_at.astimezone(CPH)
    assert (local.hour, local.minute, local.second) == (0, 0, 0)
    assert local.date() == deadline.last_day + timedelta(days=1)


def test_the_whole_last_day_is_inside_the_deadline() -> None:
    deadline = CAL.answer_deadline(date(2026, 3, 2), 8)
    assert cph(2026, 3, 10, 23, 59, 59) < deadline.ends_at
    assert not cph(2026, 3, 11, 0, 0) < deadline.ends_at


# -- paper delivery ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("posted", "days", "delivered"),
    [
        (date(2026, 3, 2), 3, date(2026, 3, 5)),  # Monday → Thursday
        (date(2026, 3, 4), 3, date(2026, 3, 9)),  # Wednesday → Monday
        (date(2026, 3, 31), 3, date(2026, 4, 8)),  # over Easter
        (date(2026, 12, 22), 3, date(2026, 12, 29)),  # over Christmas
        (date(2026, 3, 2), 0, date(2026, 3, 2)),  # a policy may count paper as delivered at once
    ],
)
def test_paper_delivery_day(posted: date, days: int, delivered: date) -> None:
    assert CAL.paper_delivery_day(posted, days) == delivered


# -- the 3-month limit ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("absence", "months", "limit"),
    [
        (date(2026, 3, 2), 3, date(2026, 6, 30)),  # April, May, June
        (date(2026, 3, 31), 3, date(2026, 6, 30)),
        (date(2026, 9, 10), 3, date(2026, 12, 31)),
        (date(2026, 10, 1), 3, date(2027, 1, 31)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 12, 1), 3, date(2027, 3, 31)),  # December → March of the next year
        (date(2026, 12, 31), 3, date(2027, 3, 31)),
        (date(2027, 11, 5), 3, date(2028, 2, 29)),  # leap year
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 1, 15), 12, date(2027, 1, 31)),
    ],
)
def test_months_after(absence: date, months: int, limit: date) -> None:
    assert CAL.months_after(absence, months) == limit
