"""The business calendar: which days are working days in the organisation.

Sources, in order: an admin-entered year (CalendarYear + CalendarDay rows) replaces everything else
for that year; otherwise the `chinese-calendar` package (public holidays and 调休 make-up working
days); for a year neither covers, weekends only, with a warning and never a crash. Closures that
admins enter apply on top of any source.
"""

import logging
import threading
import time as monotonic
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import chinese_calendar
from django.conf import settings
from django.utils import timezone

log = logging.getLogger("complaintdesk.calendar")

END_OF_DAY = time(23, 59, 59)
_CACHE_SECONDS = 60.0
_MAX_DAYS = 3660  # ten years of days
_lock = threading.Lock()


@dataclass(frozen=True)
class YearSchedule:
    year: int
    source: str  # "admin", "chinese_calendar" or "weekends_only"
    off: frozenset[date] = field(default_factory=frozenset)  # weekdays that are not working days
    on: frozenset[date] = field(default_factory=frozenset)  # weekend days that are working days

    def is_working_day(self, day: date) -> bool:
        if day in self.off:
            return False
        if day in self.on:
            return True
        return day.weekday() < 5


_schedules: dict[int, tuple[float, YearSchedule]] = {}


def invalidate() -> None:
    with _lock:
        _schedules.clear()


def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _load(year: int) -> YearSchedule:
    from .models import CalendarDay, CalendarYear

    days = list(CalendarDay.objects.filter(date__year=year).values_list("date", "kind"))
    closures = {d for d, kind in days if kind == CalendarDay.Kind.CLOSURE}
    if CalendarYear.objects.filter(year=year).exists():
        off = {d for d, kind in days if kind == CalendarDay.Kind.HOLIDAY} | closures
        on = {d for d, kind in days if kind == CalendarDay.Kind.WORKDAY} - closures
        return YearSchedule(year, "admin", frozenset(off), frozenset(on))
    if _package_covers(year):
        holidays = {d for d in chinese_calendar.holidays if d.year == year}
        workdays = {d for d in chinese_calendar.workdays if d.year == year}
        return YearSchedule(year, "chinese_calendar", frozenset(holidays | closures), frozenset(workdays - closures))
    log.warning("No official holiday schedule for %s: counting weekends only. Enter the year's schedule.", year)
    return YearSchedule(year, "weekends_only", frozenset(closures), frozenset())


def schedule(year: int) -> YearSchedule:
    now = monotonic.monotonic()
    cached = _schedules.get(year)
    if cached and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    loaded = _load(year)
    with _lock:
        _schedules[year] = (now, loaded)
    return loaded


def is_working_day(day: date) -> bool:
    return schedule(day.year).is_working_day(day)


def coverage_warning(year: int) -> str | None:
    """A visible warning when deadlines in this year are counted on weekends only."""
    if schedule(year).source == "weekends_only":
        return f"{year}: no official holiday schedule entered; working days count weekends only"
    return None


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment, timezone.get_default_timezone())


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=timezone.get_default_timezone())


def add_working_days(start: datetime, days: int) -> datetime:
    """The end of the `days`-th working day after the start; the start day does not count."""
    day = _local(start).date()
    limit = day + timedelta(days=_MAX_DAYS)  # a bound against a calendar that closes every day
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if day > limit:
            raise ValueError("no working day within ten years: check the calendar's closures")
        if is_working_day(day):
            counted += 1
    return end_of_day(day)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def working_seconds_between(start: datetime, end: datetime) -> float:
    """Seconds of [start, end) that fall on working days (a working day counts all of its 24 hours)."""
    if end <= start:
        return 0.0
    total = 0.0
    day = _local(start).date()
    last = _local(end).date()
    while day <= last:
        if is_working_day(day):
            lo = max(start, _day_start(day))
            hi = min(end, _day_start(day + timedelta(days=1)))
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def add_working_seconds(start: datetime, seconds: float) -> datetime:
    """The instant reached after `seconds` of working-day time from `start` (non-working days skipped)."""
    if seconds <= 0:
        return start  # not the next working day's midnight: a warning must never fall after its deadline
    remaining = seconds
    moment = _local(start)
    for _ in range(_MAX_DAYS):  # a bound, never reached in practice
        day = moment.date()
        next_midnight = _day_start(day + timedelta(days=1))
        if is_working_day(day):
            available = (next_midnight - moment).total_seconds()
            if remaining <= available:
                return moment + timedelta(seconds=remaining)
            remaining -= available
        moment = next_midnight
    raise ValueError("working time too long")


def default_working_hours() -> tuple[time, time]:
    """COMPLAINTDESK_WORKING_HOURS ("09:00", "17:30" by default) as times."""
    start, end = settings.COMPLAINTDESK_WORKING_HOURS
    return tuple(t if isinstance(t, time) else time.fromisoformat(t) for t in (start, end))  # type: ignore[return-value]


def working_hours_between(start: datetime, end: datetime, hours: tuple[time, time] | None = None) -> float:
    """Hours of [start, end) inside working hours on working days (for handling-time figures)."""
    if end <= start:
        return 0.0
    hours = hours or default_working_hours()
    total = 0.0
    tz = timezone.get_default_timezone()
    day, last = _local(start).date(), _local(end).date()
    year = schedule(day.year)
    while day <= last:
        if year.year != day.year:
            year = schedule(day.year)
        if year.is_working_day(day):
            lo = max(start, datetime.combine(day, hours[0], tzinfo=tz))
            hi = min(end, datetime.combine(day, hours[1], tzinfo=tz))
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total / 3600
