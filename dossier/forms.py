"""Posted panel forms → the actions' keyword arguments (the API parses its own schemas)."""

from datetime import date, datetime, time
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ValidationError
from core.validation import CONTROL


def text(post: Any, name: str) -> str:
    value = post.get(name, "")
    if CONTROL.search(value):
        raise ValidationError(name, _("含有不允许的控制字符。"))
    return value


def version(post: Any) -> int | None:
    raw = post.get("version", "")
    return int(raw) if raw.isdigit() else None


def parse_date(raw: str, field: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(field, _("日期格式应为 YYYY-MM-DD。")) from None
    if not 1900 <= day.year <= 2100:
        raise ValidationError(field, _("日期超出范围。"))
    return day


def end_of_day(day: date | None) -> datetime | None:
    """A due date given as a day ends at the end of that day in the organisation's time zone (ADR 0004)."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)), timezone.get_default_timezone())


def parse_datetime_local(raw: str, field: str) -> datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError(field, _("时间格式应为 YYYY-MM-DD HH:MM。")) from None
    if not 1900 <= moment.year <= 2100:
        raise ValidationError(field, _("日期超出范围。"))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment
