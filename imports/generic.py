"""Rows of a generic file (CSV, XLSX, JSON Lines) through a mapping into case drafts."""

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from core.validation import CONTROL

from .drafts import EXTERNAL_ID_MAX, Draft, Finisher, RowError
from .mapping import (
    BOOL_FIELDS,
    DATE_FIELDS,
    DATETIME_FIELDS,
    LIST_FIELDS,
    DateError,
    Dates,
    Mapping,
    parse_bool,
    parse_list,
    resolve_columns,
)
from .readers import SourceRow


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).strip()


def external_id(value: Any) -> tuple[str, str]:
    """(id, problem): the source id of a row, required, at most 100 characters."""
    text = cell_text(value)
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if not text:
        return "", _("来源编号为空（重复导入靠它识别，此行不能导入）。")
    if len(text) > EXTERNAL_ID_MAX or CONTROL.search(text):
        return "", _("来源编号过长（最多 %(n)d 个字符）或含控制字符。") % {"n": EXTERNAL_ID_MAX}
    return text, ""


def check_received(when: datetime, now: datetime) -> str:
    if when > now + timedelta(days=1):
        return _("不能晚于当前时间。")
    return ""


class GenericConverter:
    def __init__(self, mapping: Mapping, columns: list[str], finisher: Finisher) -> None:
        self.mapping = mapping
        self.finisher = finisher
        self.dates = Dates(mapping.date_formats)
        self.positions, self.id_position, unknown = resolve_columns(mapping, columns)
        self.warnings: list[str] = []
        if unknown:
            self.warnings.append(
                _("文件中有映射文件未使用的列（已忽略）：%(columns)s") % {"columns": ", ".join(unknown)}
            )

    def convert(self, source: SourceRow) -> Draft | list[RowError]:
        cells = source.cells
        ext, problem = external_id(cells[self.id_position])
        if problem:
            return [RowError(source.row, source.line, self.mapping.id_column, problem)]
        column = self.mapping.column_of
        errors: list[RowError] = []
        values: dict[str, Any] = dict(self.mapping.defaults)
        received_at = None
        for name, position in self.positions.items():
            raw = cells[position]
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            if name in DATETIME_FIELDS or name in DATE_FIELDS:
                try:
                    when = self.dates(raw)
                except DateError as exc:
                    errors.append(RowError(source.row, source.line, column(name), str(exc), ext))
                    continue
                if name == "received_at":
                    reason = check_received(when, self.finisher.now)
                    if reason:
                        errors.append(RowError(source.row, source.line, column(name), reason, ext))
                    received_at = when
                elif name in DATE_FIELDS:
                    values[name] = timezone.localtime(when).date() if when else None
                else:
                    values[name] = when
            elif name in LIST_FIELDS:
                values[name] = parse_list(raw)
            elif name in BOOL_FIELDS:
                values[name] = parse_bool(raw)
            else:
                values[name] = raw if isinstance(raw, (dict, list)) else cell_text(raw)
        if errors:
            return errors
        data = self.finisher.validate(values)
        if isinstance(data, list):
            return [RowError(source.row, source.line, column(name), reason, ext) for name, reason in data]
        return self.finisher.draft(
            data,
            row=source.row,
            line=source.line,
            external_id=ext,
            source=self.mapping.source,
            received_at=received_at,
        )
