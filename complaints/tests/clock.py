"""Real dates in the organisation's time zone, and a fresh business calendar, for the SLA tests."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from complaints import calendar

CST = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, s, us, tzinfo=CST)


def eod(y: int, m: int, d: int) -> datetime:
    """The end of a day in the organisation's time zone: the shape of every working-day deadline."""
    return datetime(y, m, d, 23, 59, 59, tzinfo=CST)


@pytest.fixture(autouse=True)
def _fresh_calendar(db):  # type: ignore[no-untyped-def]
    # The schedule cache is per process; rows of other tests are rolled back but could stay cached.
    calendar.invalidate()
    yield
    calendar.invalidate()
