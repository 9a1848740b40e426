"""Posted case-page forms → the actions' keyword arguments, or ValidationError naming the field."""

import re
from datetime import datetime
from typing import Any

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ValidationError
from core.validation import CONTROL

from .models import ReplyTemplate

_DURATION = re.compile(r"(?:(\d{1,4}):)?(\d{1,5})")


def _field(post: QueryDict, name: str) -> str:
    value = post.get(name, "")
    if CONTROL.search(value):
        raise ValidationError(name, _("含有不允许的控制字符。"))
    return value


def parse_moment(raw: str, field: str) -> datetime | None:
    """A datetime-local value (2026-05-01T10:30), in the organisation's time zone."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError(field, _("应为日期时间，例如 2026-05-01 10:30。")) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def parse_duration(raw: str, field: str = "duration") -> int | None:
    """Minutes ("5") or minutes:seconds ("5:30") → seconds."""
    raw = (raw or "").strip()
    if not raw:
        return None
    match = _DURATION.fullmatch(raw)
    if match is None:
        raise ValidationError(field, _("应为分钟数（如 5）或“分:秒”（如 5:30）。"))
    minutes, rest = match.groups()
    if minutes is None:
        return int(rest) * 60
    if int(rest) >= 60:
        raise ValidationError(field, _("秒数应小于 60。"))
    return int(minutes) * 60 + int(rest)


def contact_kwargs(post: QueryDict) -> dict[str, Any]:
    errors: dict[str, str] = {}
    kwargs: dict[str, Any] = {}
    for name in ("direction", "party", "third_party_kind", "third_party_name", "channel", "summary"):
        try:
            kwargs[name] = _field(post, name)
        except ValidationError as exc:
            errors.update(exc.errors)
    try:
        kwargs["occurred_at"] = parse_moment(post.get("occurred_at", ""), "occurred_at")
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        kwargs["duration_seconds"] = parse_duration(post.get("duration", ""))
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    return kwargs


def template_from(raw: str | None, purpose: str, field: str = "template") -> ReplyTemplate | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    template = ReplyTemplate.objects.filter(pk=int(raw), purpose=purpose).first() if raw.isdigit() else None
    if template is None or not template.active:
        raise ValidationError(field, _("模板不存在或已停用。"))
    return template


def version(post: QueryDict) -> int | None:
    raw = post.get("version", "")
    return int(raw) if raw.isdigit() else None
