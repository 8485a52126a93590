"""Working days, office hours and the answer deadline (forvaltningsloven, Copenhagen practice).

Pure and deterministic: everything comes from a `PolicySnapshot`, so workflows can call it. Times are handled
as aware datetimes; local wall-clock rules (office hours, midnight) are applied in the policy's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from domain.policy import PolicySnapshot


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    # Loaded outside the workflow sandbox (this module is passed through), where tz files can be read.
    return ZoneInfo(name)


@dataclass(frozen=True)
class Deadline:
    """The answer deadline: the last day the citizen may answer, ending at midnight local time."""

    last_day: date
    ends_at: datetime


class WorkingCalendar:
    """Answers calendar questions for one policy snapshot."""

    def __init__(self, snap: PolicySnapshot) -> None:
        self._closed = frozenset(snap.closed_days)
        self.tz = _zone(snap.policy.calendar.timezone)
        self.opens: time = snap.policy.office_hours.opens
        self.closes: time = snap.policy.office_hours.closes
        if snap.closed_days:
            self._first, self._last = snap.closed_days[0].year, snap.closed_days[-1].year
        else:
            self._first = self._last = 0

    # -- days ---------------------------------------------------------------------------------------------
    def is_working_day(self, day: date) -> bool:
        if self._first and not (self._first <= day.year <= self._last):
            raise ValueError(f"{day.isoformat()} is outside the calendar snapshot ({self._first}-{self._last})")
        return day.weekday() < 5 and day not in self._closed

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before `day`."""
        day -= timedelta(days=1)
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def on_or_next_working_day(self, day: date) -> date:
        return day if self.is_working_day(day) else self.next_working_day(day)

    def add_working_days(self, day: date, count: int) -> date:
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    # -- times --------------------------------------------------------------------------------------------
    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.tz)

    def is_office_time(self, moment: datetime) -> bool:
        loc = self.local(moment)
        return self.is_working_day(loc.date()) and self.opens <= loc.time() < self.closes

    def next_office_time(self, moment: datetime) -> datetime:
        """`moment` if the office is open then, else the next opening."""
        loc = self.local(moment)
        if self.is_working_day(loc.date()):
            if loc.time() < self.opens:
                return self.at(loc.date(), self.opens)
            if loc.time() < self.closes:
                return loc
        return self.at(self.next_working_day(loc.date()), self.opens)

    def first_office_time_after_day_of(self, moment: datetime) -> datetime:
        """Office opening on the first working day after the day of `moment` (the hearing letter's slot)."""
        return self.at(self.next_working_day(self.local(moment).date()), self.opens)

    def add_working_hours(self, moment: datetime, hours: float) -> datetime:
        """`hours` of office time after `moment`, skipping evenings, weekends and closed days."""
        current = self.next_office_time(moment)
        remaining = timedelta(hours=hours)
        while True:
            close = self.at(current.date(), self.closes)
            left_today = close - current
            if remaining <= left_today:
                return current + remaining
            remaining -= left_today
            current = self.at(self.next_working_day(current.date()), self.opens)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Office hours elapsed from `start` to `end` (0 if end is not after start)."""
        total = timedelta()
        current = self.next_office_time(start)
        end = self.local(end)
        while current < end:
            close = self.at(current.date(), self.closes)
            total += min(close, end) - current
            current = self.at(self.next_working_day(current.date()), self.opens)
        return total.total_seconds() / 3600

    # -- deadlines ----------------------------------------------------------------------------------------
    def answer_deadline(self, delivered_on: date, days: int) -> Deadline:
        """`days` after delivery, the delivery day not counted, moved off non-working days, to midnight."""
        last = self.on_or_next_working_day(delivered_on + timedelta(days=days))
        return Deadline(last_day=last, ends_at=self.at(last + timedelta(days=1), time(0, 0)))

    def paper_delivery_day(self, posted_on: date, working_days: int) -> date:
        """The day a paper letter counts as delivered under the policy's postal rule."""
        return self.add_working_days(posted_on, working_days)

    def months_after(self, day: date, months: int) -> date:
        """The last day of the `months` whole calendar months after the month of `day`."""
        month_index = day.month - 1 + months + 1
        year, month = day.year + month_index // 12, month_index % 12 + 1
        return date(year, month, 1) - timedelta(days=1)
