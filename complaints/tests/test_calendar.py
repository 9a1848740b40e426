"""The business calendar (DESIGN.md §4) on real dates: the official 2026 schedule as the
`chinese-calendar` package has it, 2027 (which no source covers), admin-entered years and closures.

The 2026 schedule used below (State Council, as in chinese-calendar 1.11):
  New Year       Jan 1–3 off (Thu–Sat), Sun Jan 4 worked
  Spring Festival Feb 15–23 off (Sun–Mon), Sat Feb 14 and Sat Feb 28 worked
  Qingming       Apr 4–6 off (Sat–Mon)
  Labour Day     May 1–5 off (Fri–Tue), Sat May 9 worked
  Dragon Boat    Jun 19–21 off (Fri–Sun)
  Mid-Autumn     Sep 25–27 off (Fri–Sun), Sun Sep 20 worked
  National Day   Oct 1–7 off (Thu–Wed), Sat Oct 10 worked
"""

import logging
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from complaints import calendar
from complaints.models import CalendarDay, CalendarYear
from complaints.tests.clock import CST, _fresh_calendar, at, eod  # noqa: F401

# --- the 2026 schedule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 9, 20), True),  # Sunday, make-up day for National Day
        (date(2026, 10, 10), True),  # Saturday, make-up day for National Day
        (date(2026, 2, 14), True),  # Saturday, make-up day for Spring Festival
        (date(2026, 2, 28), True),  # Saturday, make-up day for Spring Festival
        (date(2026, 1, 4), True),  # Sunday, make-up day for New Year
        (date(2026, 10, 1), False),  # Thursday, National Day
        (date(2026, 10, 7), False),  # Wednesday, last day of National Day
        (date(2026, 9, 25), False),  # Friday, Mid-Autumn
        (date(2026, 2, 16), False),  # Monday, Spring Festival
        (date(2026, 2, 23), False),  # Monday, last day of Spring Festival
        (date(2026, 4, 6), False),  # Monday, Qingming
        (date(2026, 10, 8), True),  # Thursday after National Day
        (date(2026, 10, 11), False),  # an ordinary Sunday
        (date(2026, 3, 10), True),  # an ordinary Tuesday
    ],
)
def test_2026_working_days_follow_the_official_schedule(day, working):
    assert calendar.is_working_day(day) is working
    assert calendar.schedule(2026).source == "chinese_calendar"
    assert calendar.coverage_warning(2026) is None


def test_p3_across_national_day_2026():
    # Accepted Wed 2026-09-30 17:00; the start day does not count.
    # Oct 1–7 off; Thu Oct 8 = 1, Fri Oct 9 = 2, Sat Oct 10 (make-up) = 3, Sun Oct 11 off,
    # Mon Oct 12 = 4, Tue Oct 13 = 5, Wed Oct 14 = 6, Thu Oct 15 = 7.
    due = calendar.add_working_days(at(2026, 9, 30, 17), 7)
    assert due == eod(2026, 10, 15)
    assert due.isoformat() == "2026-10-15T23:59:59+08:00"


def test_p1_on_a_friday_is_due_monday():
    # Fri 2026-03-06: Sat and Sun are off, Mon 2026-03-09 is the first working day.
    assert calendar.add_working_days(at(2026, 3, 6, 16, 30), 1) == eod(2026, 3, 9)


def test_p1_the_day_before_a_holiday():
    # Wed 2026-09-30 → Oct 1–7 off → Thu Oct 8.
    assert calendar.add_working_days(at(2026, 9, 30, 9), 1) == eod(2026, 10, 8)
    # Thu 2026-09-24 → Fri Sep 25 Mid-Autumn, Sat/Sun off → Mon Sep 28.
    assert calendar.add_working_days(at(2026, 9, 24, 10), 1) == eod(2026, 9, 28)
    # Fri 2026-04-03 → Sat 4, Sun 5, Mon 6 (Qingming) off → Tue Apr 7.
    assert calendar.add_working_days(at(2026, 4, 3, 10), 1) == eod(2026, 4, 7)


def test_p1_before_a_make_up_saturday():
    # Fri 2026-10-09 → Sat Oct 10 is a make-up working day.
    assert calendar.add_working_days(at(2026, 10, 9, 15), 1) == eod(2026, 10, 10)
    # Sat 2026-09-19 → Sun Sep 20 is a make-up working day.
    assert calendar.add_working_days(at(2026, 9, 19, 15), 1) == eod(2026, 9, 20)


def test_p2_across_spring_festival_2026():
    # Thu 2026-02-12: Fri Feb 13 = 1, Sat Feb 14 (make-up) = 2, Feb 15–23 off, Tue Feb 24 = 3.
    assert calendar.add_working_days(at(2026, 2, 12, 11), 3) == eod(2026, 2, 24)


def test_p4_across_spring_festival_2026():
    # Wed 2026-02-11: Thu 12 = 1, Fri 13 = 2, Sat 14 (make-up) = 3, Feb 15–23 off,
    # Tue 24 = 4, Wed 25 = 5, Thu 26 = 6, Fri 27 = 7, Sat 28 (make-up) = 8, Sun Mar 1 off,
    # Mon 2 = 9, Tue 3 = 10, Wed 4 = 11, Thu 5 = 12, Fri 6 = 13, Mon 9 = 14, Tue 10 = 15.
    assert calendar.add_working_days(at(2026, 2, 11, 14), 15) == eod(2026, 3, 10)


def test_p3_across_labour_day_2026():
    # Thu 2026-04-30: May 1–5 off, Wed 6 = 1, Thu 7 = 2, Fri 8 = 3, Sat 9 (make-up) = 4,
    # Mon 11 = 5, Tue 12 = 6, Wed 13 = 7.
    assert calendar.add_working_days(at(2026, 4, 30, 10), 7) == eod(2026, 5, 13)


@pytest.mark.parametrize("moment", [at(2026, 3, 9, 0, 0, 1), at(2026, 3, 9, 12), at(2026, 3, 9, 23, 59, 59)])
def test_the_start_day_never_counts(moment):
    # Whatever the hour on Mon 2026-03-09, one working day ends on Tue 2026-03-10.
    assert calendar.add_working_days(moment, 1) == eod(2026, 3, 10)


def test_a_start_on_a_non_working_day():
    # Sat 2026-03-07 → Mon 2026-03-09; Sat 2026-10-03 (National Day) → Thu 2026-10-08.
    assert calendar.add_working_days(at(2026, 3, 7, 10), 1) == eod(2026, 3, 9)
    assert calendar.add_working_days(at(2026, 10, 3, 10), 1) == eod(2026, 10, 8)


def test_the_start_day_is_the_local_day():
    # 2026-03-05 17:30 UTC is Fri 2026-03-06 01:30 in Shanghai: the start day is the Friday.
    start = datetime(2026, 3, 5, 17, 30, tzinfo=ZoneInfo("UTC"))
    assert calendar.add_working_days(start, 1) == eod(2026, 3, 9)


def test_deadlines_are_in_the_organisation_time_zone(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    due = calendar.add_working_days(datetime(2026, 3, 9, 10, tzinfo=ZoneInfo("Europe/Berlin")), 1)
    assert due == datetime(2026, 3, 10, 23, 59, 59, tzinfo=ZoneInfo("Europe/Berlin"))


# --- 2027: no source ----------------------------------------------------------------------------


def test_2027_counts_weekends_only_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="complaintdesk.calendar"):
        assert calendar.schedule(2027).source == "weekends_only"
    assert "2027" in caplog.text
    warning = calendar.coverage_warning(2027)
    assert warning is not None and "2027" in warning
    # Spring Festival 2027 is Sat Feb 6 but nothing knows its holidays: Fri Feb 5 → Mon 8 = 1,
    # Tue 9 = 2, Wed 10 = 3 (weekends only).
    assert calendar.add_working_days(at(2027, 2, 5, 10), 3) == eod(2027, 2, 10)
    assert calendar.is_working_day(date(2027, 2, 8)) is True
    assert calendar.is_working_day(date(2027, 2, 6)) is False


def test_a_deadline_across_the_year_end_into_2027_does_not_crash():
    # Wed 2026-12-30: Thu 31 = 1, Fri 2027-01-01 = 2 (weekends only: not known as a holiday),
    # Sat/Sun off, Mon Jan 4 = 3.
    assert calendar.add_working_days(at(2026, 12, 30, 10), 3) == eod(2027, 1, 4)
    assert calendar.coverage_warning(2027) is not None


def test_an_admin_entered_2027_governs():
    # An illustrative schedule (not the official one, published in the autumn before).
    year = CalendarYear.objects.create(year=2027, source="国务院办公厅通知（测试）")
    for d in range(8, 13):  # Mon Feb 8 – Fri Feb 12
        CalendarDay.objects.create(date=date(2027, 2, d), kind=CalendarDay.Kind.HOLIDAY, name="春节")
    CalendarDay.objects.create(date=date(2027, 2, 20), kind=CalendarDay.Kind.WORKDAY, name="春节调休")
    calendar.invalidate()

    assert calendar.schedule(2027).source == "admin"
    assert calendar.coverage_warning(2027) is None
    # Fri Feb 5 → Feb 8–12 off → Mon 15 = 1, Tue 16 = 2, Wed 17 = 3.
    assert calendar.add_working_days(at(2027, 2, 5, 10), 3) == eod(2027, 2, 17)
    # Thu Feb 18 → Fri 19 = 1, Sat 20 (make-up) = 2.
    assert calendar.add_working_days(at(2027, 2, 18, 10), 2) == eod(2027, 2, 20)

    year.delete()  # rows without their year: back to weekends only
    calendar.invalidate()
    assert calendar.schedule(2027).source == "weekends_only"


def test_an_admin_entered_year_replaces_the_package():
    # An admin year with no holidays at all: the package's National Day no longer applies.
    CalendarYear.objects.create(year=2026, source="import")
    calendar.invalidate()
    assert calendar.schedule(2026).source == "admin"
    assert calendar.is_working_day(date(2026, 10, 1)) is True
    assert calendar.is_working_day(date(2026, 10, 10)) is False  # a plain Saturday again
    assert calendar.add_working_days(at(2026, 9, 30, 17), 1) == eod(2026, 10, 1)


def test_a_closure_on_a_weekday_extends_the_deadline():
    # Mon 2026-03-09 + 1 working day is Tue 3-10; closed on Tue 3-10 → Wed 3-11.
    assert calendar.add_working_days(at(2026, 3, 9, 10), 1) == eod(2026, 3, 10)
    CalendarDay.objects.create(date=date(2026, 3, 10), kind=CalendarDay.Kind.CLOSURE, name="系统迁移停业")
    calendar.invalidate()
    assert calendar.is_working_day(date(2026, 3, 10)) is False
    assert calendar.add_working_days(at(2026, 3, 9, 10), 1) == eod(2026, 3, 11)


def test_a_closure_on_a_make_up_day_and_in_a_year_without_source():
    CalendarDay.objects.create(date=date(2026, 10, 10), kind=CalendarDay.Kind.CLOSURE, name="停业")
    CalendarDay.objects.create(date=date(2027, 3, 10), kind=CalendarDay.Kind.CLOSURE, name="停业")
    calendar.invalidate()
    # Fri Oct 9 → Sat Oct 10 would be a make-up day but is closed → Mon Oct 12.
    assert calendar.add_working_days(at(2026, 10, 9, 10), 1) == eod(2026, 10, 12)
    # 2027 (weekends only) still honours the closure: Tue 2027-03-09 → Thu 3-11.
    assert calendar.add_working_days(at(2027, 3, 9, 10), 1) == eod(2027, 3, 11)
    assert calendar.coverage_warning(2027) is not None


def test_a_closure_inside_an_admin_year():
    CalendarYear.objects.create(year=2027)
    CalendarDay.objects.create(date=date(2027, 3, 10), kind=CalendarDay.Kind.CLOSURE)
    calendar.invalidate()
    assert calendar.add_working_days(at(2027, 3, 9, 10), 1) == eod(2027, 3, 11)


def test_the_schedule_is_cached_until_invalidated(monkeypatch):
    assert calendar.is_working_day(date(2026, 3, 10)) is True
    CalendarDay.objects.create(date=date(2026, 3, 10), kind=CalendarDay.Kind.CLOSURE)
    assert calendar.is_working_day(date(2026, 3, 10)) is True  # still cached
    real = calendar.monotonic.monotonic
    monkeypatch.setattr(calendar.monotonic, "monotonic", lambda: real() + 61)
    assert calendar.is_working_day(date(2026, 3, 10)) is False  # the cache expired
    monkeypatch.undo()
    calendar.invalidate()
    assert calendar.is_working_day(date(2026, 3, 10)) is False


# --- working time -----------------------------------------------------------------------------


def test_working_seconds_between_skip_weekends_and_holidays():
    # Fri 17:00 → Mon 09:00: 7 h on Friday and 9 h on Monday.
    assert calendar.working_seconds_between(at(2026, 3, 6, 17), at(2026, 3, 9, 9)) == 16 * 3600
    # Wed 2026-09-30 12:00 → Thu 2026-10-08 12:00: 12 h + 12 h, the seven days off count nothing.
    assert calendar.working_seconds_between(at(2026, 9, 30, 12), at(2026, 10, 8, 12)) == 24 * 3600
    # Entirely inside a holiday: nothing.
    assert calendar.working_seconds_between(at(2026, 10, 2, 9), at(2026, 10, 6, 18)) == 0
    assert calendar.working_seconds_between(at(2026, 3, 9, 12), at(2026, 3, 9, 11)) == 0
    # Instants in another zone are the same instants.
    utc = ZoneInfo("UTC")
    assert (
        calendar.working_seconds_between(datetime(2026, 3, 6, 9, tzinfo=utc), datetime(2026, 3, 9, 1, tzinfo=utc))
        == 16 * 3600
    )


def test_add_working_seconds_is_the_inverse():
    assert calendar.add_working_seconds(at(2026, 3, 6, 17), 16 * 3600) == at(2026, 3, 9, 9)
    assert calendar.add_working_seconds(at(2026, 9, 30, 12), 24 * 3600) == at(2026, 10, 8, 12)
    # From a non-working day, the clock starts at the next working day's midnight.
    assert calendar.add_working_seconds(at(2026, 10, 3, 12), 3600) == at(2026, 10, 8, 1)
    # Nothing to add: the start itself, even on a day off.
    assert calendar.add_working_seconds(at(2026, 10, 3, 12), 0) == at(2026, 10, 3, 12)
    # Three working days from a deadline: Thu 2026-03-05 23:59:59 → Tue 2026-03-10 23:59:59.
    assert calendar.add_working_seconds(eod(2026, 3, 5), 3 * 86400) == eod(2026, 3, 10)


def test_working_hours_between_for_handling_time():
    hours = (time(9, 0), time(17, 30))
    # Fri 10:00 → Mon 12:00: 7.5 h on Friday, 3 h on Monday.
    assert calendar.working_hours_between(at(2026, 3, 6, 10), at(2026, 3, 9, 12), hours) == 10.5
    # Wed 2026-09-30 09:00 → Thu 2026-10-08 17:30: two working days of 8.5 h.
    assert calendar.working_hours_between(at(2026, 9, 30, 9), at(2026, 10, 8, 17, 30), hours) == 17
    # The make-up Saturday counts; the Sunday does not.
    assert calendar.working_hours_between(at(2026, 10, 10, 0), at(2026, 10, 12, 0), hours) == 8.5
    assert calendar.working_hours_between(at(2026, 3, 9, 18), at(2026, 3, 9, 20), hours) == 0
    # Across a new year, each day by its own year's schedule: Wed 2025-12-31 works, 1–3 January 2026
    # are off, Sunday the 4th is a make-up working day, Monday the 5th works.
    assert calendar.working_hours_between(at(2025, 12, 31, 9), at(2026, 1, 5, 17, 30), hours) == 3 * 8.5


def test_working_hours_default_to_the_settings(settings):
    assert calendar.default_working_hours() == (time(9, 0), time(17, 30))
    assert calendar.working_hours_between(at(2026, 3, 6, 10), at(2026, 3, 9, 12)) == 10.5
    assert calendar.working_hours_between(at(2026, 3, 6, 10), at(2026, 3, 9, 8, 45)) == 7.5
    settings.COMPLAINTDESK_WORKING_HOURS = ("08:30", "17:00")
    # Fri 10:00–17:00 = 7 h, Mon 08:30–08:45 = 0.25 h.
    assert calendar.working_hours_between(at(2026, 3, 6, 10), at(2026, 3, 9, 8, 45)) == 7.25
    assert calendar.working_hours_between(at(2026, 3, 6, 8), at(2026, 3, 6, 9)) == 0.5


def test_a_calendar_without_working_days_raises_instead_of_hanging(monkeypatch):
    monkeypatch.setattr(calendar, "is_working_day", lambda day: False)
    with pytest.raises(ValueError):
        calendar.add_working_days(at(2026, 3, 9), 1)
    with pytest.raises(ValueError):
        calendar.add_working_seconds(at(2026, 3, 9), 1)
    assert calendar.add_working_days(at(2026, 3, 9, 10), 0) == eod(2026, 3, 9)
