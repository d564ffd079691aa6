"""Business calendars: working days, opening time, a daily cut-off and holidays, in a location's timezone.

Inputs are aware datetimes; results are aware UTC datetimes. Local wall-clock times
(the 16:00 cut-off) are turned into UTC instants one day at a time, and every
comparison and subtraction happens between UTC instants. Python compares and
subtracts two datetimes that share a tzinfo by their wall clocks, which is wrong
across a daylight-saving switch, so local datetimes are never compared here.

A wall-clock time that does not exist (02:30 on the night clocks go forward) is
read as the same time under the old offset, which lands just after the gap; one
that happens twice (02:30 on the night clocks go back) is its first occurrence.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAY_NAMES = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}
# How far ahead a calendar is searched for a working day before it counts as broken
# (no working days, or a year of holidays).
SEARCH_DAYS = 366


class CalendarError(ValueError):
    """The calendar cannot answer: no working day ahead, or a window far too long."""


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "UTC"
    working_days: str = "12345"  # ISO weekdays, Monday = 1
    cutoff: time = time(16, 0)  # the end of the business day (dispatch cut-off)
    holidays: Collection[date] = field(default_factory=frozenset)
    opens: time = time(8, 0)  # where counted business hours start each working day

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        return str(day.isoweekday()) in self.working_days and day not in self.holidays

    def instant(self, day: date, wall: time) -> datetime:
        """The UTC instant at which the local clock shows `wall` on `day`."""
        return datetime.combine(day, wall, tzinfo=self.zone).astimezone(UTC)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def close_of(self, day: date) -> datetime:
        """The cut-off of `day`, as an aware UTC time."""
        return self.instant(day, self.cutoff)

    def open_of(self, day: date) -> datetime:
        return self.instant(day, self.opens)

    def next_working_day(self, day: date) -> date:
        """The first working day after `day`."""
        for _ in range(SEARCH_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise CalendarError("the calendar has no working day in the coming year")


def parse_cutoff(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def normalise_working_days(days: Collection[int | str]) -> str:
    """{"5", 1, 3} -> "135": the stored form, ISO weekdays in order."""
    picked = sorted({int(d) for d in days})
    if not picked:
        raise CalendarError("Pick at least one working day.")
    if picked[0] < 1 or picked[-1] > 7:
        raise CalendarError("Working days are ISO weekdays 1 (Monday) to 7 (Sunday).")
    return "".join(str(d) for d in picked)


def working_days_label(days: str) -> str:
    return ", ".join(WEEKDAY_NAMES[int(d)] for d in days)


def end_of_business_day(now: datetime, cal: BusinessCalendar) -> datetime:
    """Today's cut-off if `now` is on a working day before it; else the next working day's.

    This is the deadline of a same-day hold: what lands after the cut-off (or on a
    weekend or holiday) is due by the cut-off of the next working day."""
    day = cal.local_date(now)
    if cal.is_working_day(day) and now < cal.close_of(day):
        return cal.close_of(day)
    return cal.close_of(cal.next_working_day(day))


def add_business_hours(start: datetime, hours: float, cal: BusinessCalendar, opening: time | None = None) -> datetime:
    """`hours` of working time from `start`, counting only opening..cut-off on working days.

    The hours are real elapsed time: a window that contains a clock change is an hour
    longer or shorter on the wall clock, never in the hours it counts."""
    if opening is not None:
        cal = BusinessCalendar(cal.timezone, cal.working_days, cal.cutoff, cal.holidays, opening)
    remaining = timedelta(hours=hours)
    begin_at = start.astimezone(UTC)
    day = cal.local_date(start)
    for _ in range(SEARCH_DAYS * 10):
        if cal.is_working_day(day):
            window_start, window_end = cal.open_of(day), cal.close_of(day)
            begin = max(begin_at, window_start)
            if begin < window_end:
                available = window_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += timedelta(days=1)
    raise CalendarError("business-hour window too long")

