"""Input types shared by every API schema: text without control characters (PostgreSQL refuses NUL,
and escape sequences have no place in a complaint), and datetimes within a sane range (year 1 or
9999 overflows on conversion to UTC)."""

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TRACKING_NO = re.compile(r"TS\d{8}-\d{6,12}")


def no_control(value: str) -> str:
    if CONTROL.search(value):
        raise PydanticCustomError("control_characters", "contains control characters")
    return value


def _bounded(value: date) -> date:
    if not 1900 <= value.year <= 2100:
        raise PydanticCustomError("date_range", "must be between the years 1900 and 2100")
    return value


CleanText = Annotated[str, AfterValidator(no_control)]
BoundedDatetime = Annotated[datetime, AfterValidator(_bounded)]
BoundedDate = Annotated[date, AfterValidator(_bounded)]
