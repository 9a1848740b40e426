"""The mapping file of a generic import (CSV, XLSX, JSON Lines): which column is the source id and
which columns fill which intake fields.

    {"source": "crm",                       # names the system the rows come from (idempotency key)
     "id": "工单号",                          # the column holding each row's id in that system
     "fields": {"description": "投诉内容", "complainant_phone": "电话", "received_at": "受理日期"},
     "defaults": {"channel": "phone"},       # values for fields no column gives
     "date_formats": ["%d.%m.%Y"]}           # tried after ISO 8601, instead of the built-in list

Fields are those of `complaints.intake.IntakeData`, plus `received_at` (the original date of
receipt). Without a mapping file, columns named like the fields map to themselves and a column
named `id` is the source id."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.intake import IntakeData

INTAKE_FIELDS = frozenset(IntakeData.model_fields)
EXTRA_FIELDS = frozenset({"received_at"})
MAPPABLE = INTAKE_FIELDS | EXTRA_FIELDS
DATE_FIELDS = frozenset({"purchase_date"})
DATETIME_FIELDS = frozenset({"occurred_at", "regulator_due_at", "received_at"})
LIST_FIELDS = frozenset({"remedies_requested", "risk_flags"})
BOOL_FIELDS = frozenset({"anonymous"})

# Tried in order after ISO 8601 when the mapping names no formats. Day-first dates (31/12/2024) are
# ambiguous with US month-first ones, so only the month-first form (CFPB's older exports) is built
# in; a file with day-first dates names its format in the mapping.
DEFAULT_DATE_FORMATS = [
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y.%m.%d",
    "%Y年%m月%d日",
    "%Y年%m月%d日 %H:%M",
    "%Y%m%d",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
]
SOURCE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")


class MappingError(Exception):
    """A mapping that cannot work for this file (fatal: nothing is imported)."""


@dataclass
class Mapping:
    source: str
    id_column: str
    fields: dict[str, str]
    defaults: dict[str, Any] = field(default_factory=dict)
    date_formats: list[str] = field(default_factory=lambda: list(DEFAULT_DATE_FORMATS))

    def column_of(self, name: str) -> str:
        """The column a field comes from, for error messages (the field itself if none)."""
        return self.fields.get(name, name)


def check_source(source: str) -> str:
    source = (source or "").strip()
    if not SOURCE_RE.match(source):
        raise MappingError(_("来源名称须为 1–40 个字母、数字或 _ . : -（例如 crm、12315）。"))
    return source


def load_mapping(spec: Any, *, source: str = "") -> Mapping:
    """A Mapping from the parsed JSON of a mapping file; `source` (--source) overrides its source."""
    if not isinstance(spec, dict):
        raise MappingError(_("映射文件应是一个 JSON 对象。"))
    unknown_keys = set(spec) - {"source", "id", "fields", "defaults", "date_formats"}
    if unknown_keys:
        raise MappingError(_("映射文件含有未知的键：%(keys)s") % {"keys": ", ".join(sorted(unknown_keys))})
    fields = spec.get("fields") or {}
    if not isinstance(fields, dict) or not all(isinstance(v, str) and v.strip() for v in fields.values()):
        raise MappingError(_("映射文件的 fields 应是 {字段: 列名} 形式的对象。"))
    bad = sorted(set(fields) - MAPPABLE)
    if bad:
        raise MappingError(
            _("映射文件含有未知字段：%(fields)s。可用字段：%(known)s")
            % {"fields": ", ".join(bad), "known": ", ".join(sorted(MAPPABLE))}
        )
    id_column = spec.get("id")
    if not isinstance(id_column, str) or not id_column.strip():
        raise MappingError(_("映射文件必须用 id 指明来源编号所在的列（重复导入靠它识别）。"))
    defaults = spec.get("defaults") or {}
    if not isinstance(defaults, dict) or set(defaults) - INTAKE_FIELDS:
        raise MappingError(_("映射文件的 defaults 只能含有登记字段。"))
    formats = spec.get("date_formats")
    if formats is None:
        formats = list(DEFAULT_DATE_FORMATS)
    elif not isinstance(formats, list) or not all(isinstance(f, str) and "%" in f for f in formats):
        raise MappingError(_("date_formats 应是 strftime 格式的列表，例如 %(example)s。") % {"example": '["%d.%m.%Y"]'})
    return Mapping(
        source=check_source(source or str(spec.get("source") or "")),
        id_column=id_column.strip(),
        fields={name: column.strip() for name, column in fields.items()},
        defaults=defaults,
        date_formats=formats,
    )


def identity_mapping(columns: list[str], *, source: str) -> Mapping:
    """No mapping file: columns named like fields map to themselves; `id` is the source id."""
    lowered = {c.casefold(): c for c in columns}
    id_column = lowered.get("id") or lowered.get("external_id")
    if id_column is None:
        raise MappingError(_("文件没有 id 列；请提供映射文件并用 id 指明来源编号所在的列。"))
    fields = {lowered[name]: lowered[name] for name in MAPPABLE if name in lowered}
    return Mapping(source=check_source(source), id_column=id_column, fields=fields)


def resolve_columns(mapping: Mapping, columns: list[str]) -> tuple[dict[str, int], int, list[str]]:
    """Column positions of the mapped fields and of the id; the file's unmapped columns (warned
    about once). Column names match without regard to case or surrounding spaces."""
    position = {c.casefold(): i for i, c in reversed(list(enumerate(columns)))}
    missing = [c for c in [mapping.id_column, *mapping.fields.values()] if c.casefold() not in position]
    if missing:
        raise MappingError(
            _("文件中没有映射文件所写的列：%(missing)s。文件的列：%(columns)s")
            % {"missing": ", ".join(dict.fromkeys(missing)), "columns": ", ".join(columns)}
        )
    fields = {name: position[column.casefold()] for name, column in mapping.fields.items()}
    used = {mapping.id_column.casefold(), *(c.casefold() for c in mapping.fields.values())}
    unknown = [c for c in columns if c.casefold() not in used]
    return fields, position[mapping.id_column.casefold()], unknown


class DateError(ValueError):
    pass


def parse_when(value: Any, formats: list[str]) -> datetime | None:
    """An aware datetime from a cell: ISO 8601 or one of `formats`; a date alone is midnight in
    the organisation's time zone, and so is a time without an offset. Raises DateError."""
    if value is None or value == "":
        return None
    tz = timezone.get_default_timezone()
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, tz)
    if isinstance(value, date):
        return timezone.make_aware(datetime.combine(value, time()), tz)
    text = str(value).strip()
    if not text:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        for fmt in formats:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        shown = ", ".join(["ISO 8601", *formats[:6]]) + ("…" if len(formats) > 6 else "")
        raise DateError(
            _("无法识别的日期“%(value)s”（可用格式：%(formats)s）。") % {"value": text[:40], "formats": shown}
        )
    if not 1900 <= parsed.year <= 2100:
        raise DateError(_("年份应在 1900 到 2100 之间。"))
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, tz)


def parse_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in re.split(r"[,;，；、|]", str(value)) if part.strip()]


def parse_bool(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y", "是", "匿名"}:
        return True
    if text in {"", "0", "false", "no", "n", "否"}:
        return False
    return text  # pydantic reports it


class Dates:
    """parse_when with the answers for text kept (files repeat their dates row after row)."""

    def __init__(self, formats: list[str]) -> None:
        self.formats = formats
        self._known: dict[str, datetime | str | None] = {}

    def __call__(self, value: Any) -> datetime | None:
        if not isinstance(value, str):
            return parse_when(value, self.formats)
        known = self._known.get(value, _UNSEEN)
        if known is _UNSEEN:
            try:
                known = parse_when(value, self.formats)
            except DateError as exc:
                known = str(exc)
            if len(self._known) > 5000:
                self._known.clear()
            self._known[value] = known
        if isinstance(known, str):
            raise DateError(known)
        return known  # type: ignore[return-value]


_UNSEEN: Any = object()
