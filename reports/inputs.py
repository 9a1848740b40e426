"""Parsing of what the export and report forms and the API send; every error names its field."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, OrgUnit
from complaints.choices import Channel, Priority, Status
from complaints.models import Category
from core.errors import ValidationError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
EXPORT_FORMATS = ("csv", "xlsx", "parquet", "cfpb")
ENCODINGS = ("utf-8", "gb18030")
_EXPORT_FIELDS = {
    "format", "encoding", "include_personal", "include_narrative", "received_from", "received_to",
    "state", "priority", "category", "department", "channel", "q",
}  # fmt: skip


@dataclass
class ExportRequest:
    format: str = "csv"
    encoding: str = "utf-8"
    include_personal: bool = False
    include_narrative: bool = False
    # The filters of complaints.selectors.filtered (already validated).
    filters: dict[str, Any] = field(default_factory=dict)


def _values(data: Mapping[str, Any], name: str) -> list[str]:
    """A field as a list of strings, from a form (QueryDict) or JSON (a string or a list)."""
    getlist = getattr(data, "getlist", None)
    raw: Any = getlist(name) if getlist is not None else data.get(name)
    if raw is None:
        return []
    if isinstance(raw, (str, int, float, bool)):
        raw = [raw]
    if not isinstance(raw, Iterable):
        return []
    return [str(v).strip() for v in raw if str(v).strip()]


def _one(data: Mapping[str, Any], name: str) -> str:
    values = _values(data, name)
    return values[-1] if values else ""


def _flag(data: Mapping[str, Any], name: str, errors: dict[str, str]) -> bool:
    raw = _one(data, name).lower()
    if raw in ("", "0", "false", "off", "no"):
        return False
    if raw in ("1", "true", "on", "yes"):
        return True
    errors[name] = _("应为 true 或 false。")
    return False


def _date(raw: str, name: str, errors: dict[str, str]) -> date | None:
    if not raw:
        errors[name] = _("此项必填：导出须有起止日期。")
        return None
    try:
        # Exactly YYYY-MM-DD: date.fromisoformat alone also takes 20260101 and 2026-W01-1, and a
        # prefix cut would let "2026-01-01xyz" through.
        if not _ISO_DATE.fullmatch(raw):
            raise ValueError
        value = date.fromisoformat(raw)
        if not 1900 <= value.year <= 2100:
            raise ValueError
        return value
    except ValueError:
        errors[name] = _("应为日期（YYYY-MM-DD）。")
        return None


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def date_range(
    data: Mapping[str, Any], errors: dict[str, str], start: str, end: str
) -> tuple[date | None, date | None]:
    """A bounded, ordered range of whole days (the end day included), at most the configured span."""
    first = _date(_one(data, start), start, errors)
    last = _date(_one(data, end), end, errors)
    if first and last:
        if last < first:
            errors[end] = _("结束日期不能早于开始日期。")
        elif (last - first).days + 1 > settings.COMPLAINTDESK_REPORTS_MAX_DAYS:
            errors[end] = _("时间范围最长 %(n)d 天，请缩小范围。") % {"n": settings.COMPLAINTDESK_REPORTS_MAX_DAYS}
    return first, last


def _choices(data: Mapping[str, Any], name: str, allowed: Iterable[str], errors: dict[str, str]) -> list[str]:
    values = _values(data, name)
    unknown = [v for v in values if v not in set(allowed)]
    if unknown:
        errors[name] = _("未知的取值：%(values)s") % {"values": ", ".join(v[:40] for v in unknown[:5])}
    return values


def parse_export(data: Mapping[str, Any], *, may_include_personal: bool) -> ExportRequest:
    errors: dict[str, str] = {}
    for name in data:
        if name not in _EXPORT_FIELDS and name != "csrfmiddlewaretoken":
            errors[name] = _("未知的字段。可用：%(fields)s") % {"fields": "、".join(sorted(_EXPORT_FIELDS))}
    request = ExportRequest()
    request.format = _one(data, "format") or "csv"
    if request.format not in EXPORT_FORMATS:
        errors["format"] = _("未知的格式。可选：%(formats)s") % {"formats": ", ".join(EXPORT_FORMATS)}
    request.encoding = _one(data, "encoding") or "utf-8"
    if request.encoding not in ENCODINGS:
        errors["encoding"] = _("未知的编码。可选：%(encodings)s") % {"encodings": ", ".join(ENCODINGS)}
    request.include_personal = _flag(data, "include_personal", errors)
    if request.include_personal and not may_include_personal:
        errors["include_personal"] = _("您的角色只能导出脱敏的个人信息。")
    request.include_narrative = _flag(data, "include_narrative", errors)
    first, last = date_range(data, errors, "received_from", "received_to")
    filters: dict[str, Any] = {
        "state": _choices(data, "state", Status.values, errors),
        "priority": _choices(data, "priority", Priority.values, errors),
        "channel": _choices(data, "channel", Channel.values, errors),
        "category": _values(data, "category"),
        "department": _values(data, "department"),
    }
    if filters["category"]:
        known = set(Category.objects.filter(code__in=filters["category"]).values_list("code", flat=True))
        if missing := [c for c in filters["category"] if c not in known]:
            errors["category"] = _("不在投诉分类中：%(codes)s") % {"codes": ", ".join(c[:40] for c in missing[:5])}
    if filters["department"]:
        known = set(Department.objects.filter(code__in=filters["department"]).values_list("code", flat=True))
        if missing := [c for c in filters["department"] if c not in known]:
            errors["department"] = _("部门不存在：%(codes)s") % {"codes": ", ".join(c[:40] for c in missing[:5])}
    q = _one(data, "q")
    if len(q) > 200:
        errors["q"] = _("最多 200 个字符。")
    filters["q"] = q
    if errors:
        raise ValidationError(errors)
    assert first is not None and last is not None
    filters["received_from"] = local_midnight(first)
    filters["received_to"] = local_midnight(last + timedelta(days=1))
    request.filters = filters
    return request


# --- reports ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str  # "monthly" or "quarterly"
    start: date  # first day
    end: date  # the day after the last one

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def label(self) -> str:
        if self.kind == "monthly":
            return f"{self.start.year}-{self.start.month:02d}"
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"

    def previous(self) -> "Period":
        months = 1 if self.kind == "monthly" else 3
        return period_of(self.kind, add_months(self.start, -months))


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_of(kind: str, day: date) -> Period:
    """The month or quarter that holds `day`."""
    if kind == "monthly":
        start = date(day.year, day.month, 1)
        return Period(kind, start, add_months(start, 1))
    start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return Period(kind, start, add_months(start, 3))


REPORT_KINDS = ("monthly", "quarterly")
REPORT_FORMATS = ("pdf", "xlsx")
_REPORT_FIELDS = {"kind", "period", "format", "org_unit", "department", "language"}


@dataclass
class ReportRequest:
    period: Period
    format: str = "pdf"
    org_unit: OrgUnit | None = None
    department: Department | None = None
    language: str = "zh-hans"


def parse_period(kind: str, raw: str) -> Period:
    """'2026-10' for a month, '2026-Q4' for a quarter."""
    raw = raw.strip().upper()
    try:
        if kind == "monthly":
            year, month = raw.split("-")
            return period_of(kind, date(int(year), int(month), 1))
        year, quarter = raw.split("-Q")
        if not 1 <= int(quarter) <= 4:
            raise ValueError
        return period_of(kind, date(int(year), (int(quarter) - 1) * 3 + 1, 1))
    except ValueError as exc:
        raise ValidationError("period", _("月报写作 2026-10，季报写作 2026-Q4。")) from exc


def parse_report(data: Mapping[str, Any]) -> ReportRequest:
    errors: dict[str, str] = {}
    for name in data:
        if name not in _REPORT_FIELDS and name != "csrfmiddlewaretoken":
            errors[name] = _("未知的字段。可用：%(fields)s") % {"fields": "、".join(sorted(_REPORT_FIELDS))}
    kind = _one(data, "kind") or "monthly"
    period = None
    if kind not in REPORT_KINDS:
        errors["kind"] = _("应为 monthly（月报）或 quarterly（季报）。")
    elif not _one(data, "period"):
        errors["period"] = _("此项必填。")
    else:
        try:
            period = parse_period(kind, _one(data, "period"))
            if period.start > timezone.localdate():
                errors["period"] = _("报告期尚未开始。")
            elif period.end > timezone.localdate():
                # A partial period would be compared with a whole one and read as a fall.
                errors["period"] = _("报告期尚未结束，%(date)s 起可生成该期报告。") % {"date": period.end.isoformat()}
        except ValidationError as exc:
            errors.update(exc.errors)
    fmt = _one(data, "format") or "pdf"
    if fmt not in REPORT_FORMATS:
        errors["format"] = _("应为 pdf 或 xlsx。")
    language = _one(data, "language") or "zh-hans"
    if language not in {code for code, _name in settings.LANGUAGES}:
        errors["language"] = _("应为 zh-hans 或 en。")
    unit = department = None
    if raw := _one(data, "org_unit"):
        unit = OrgUnit.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if unit is None:
            errors["org_unit"] = _("组织单元不存在。")
    if raw := _one(data, "department"):
        department = Department.objects.filter(code=raw).first()
        if department is None:
            errors["department"] = _("部门不存在：%(codes)s") % {"codes": raw[:40]}
    if errors:
        raise ValidationError(errors)
    assert period is not None
    return ReportRequest(period=period, format=fmt, org_unit=unit, department=department, language=language)
