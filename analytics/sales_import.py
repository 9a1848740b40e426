"""Import of sales volume (orders and revenue) from CSV or XLSX into analytics.models.SalesVolume: the
denominators of the complaint rate per 10,000 orders and of the cost ratio (analytics.sales).

The file is read by the imports app's streaming readers (CSV: UTF-8 with or without BOM, or GB18030/GBK,
detected; XLSX: the first sheet, openpyxl read-only), one row at a time. Columns (English or Chinese
headers, case-insensitive): date (YYYY-MM-DD, or YYYY-MM for a month's figure, stored on the 1st),
org_unit (optional: the org unit's id, or its name when no other unit has it), product (optional),
orders (required, an integer ≥ 0), revenue (optional, CNY, ≥ 0).

Each (date, org unit, product) is one figure: importing it again replaces it (an upsert), so a file
can be imported any number of times. A bad row is reported with its row number, field and reason and
never stops the good rows. Rows are written in batches of BATCH (one transaction each; memory stays
flat however long the file is); a dry run does everything and rolls it back."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OrgUnit
from imports.encoding import EncodingError
from imports.readers import FileError, SourceRow, open_reader

from .models import SalesVolume

FORMATS = ("csv", "xlsx")
BATCH = 500
MAX_ORDERS = 2_147_483_647  # PositiveIntegerField on both databases
MAX_REVENUE = Decimal("1e16")  # max_digits=18, decimal_places=2
ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("date", "日期", "月份"),
    "org_unit": ("org_unit", "组织单元", "组织单元编号"),
    "product": ("product", "产品"),
    "orders": ("orders", "订单数", "订单量"),
    "revenue": ("revenue", "销售额"),
}
REQUIRED = ("date", "orders")
REPORT_HEADER = ["row", "line", "field", "reason", "value"]
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_INTEGER = re.compile(r"\d{1,3}(,\d{3})+|\d+")


class ImportRefused(Exception):
    """The file cannot be read at all (encoding, format, missing columns): nothing is imported."""


class RowError(Exception):
    def __init__(self, field_name: str, reason: str, value: Any = "") -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason
        self.value = "" if value is None else str(value).strip()[:60]


@dataclass
class Result:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    encoding: str = ""
    dry_run: bool = False
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[list[Any]] = field(default_factory=list)  # [row, line, field, reason, value]

    @property
    def refused(self) -> int:
        return len(self.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "refused": self.refused,
            "encoding": self.encoding,
            "dry_run": self.dry_run,
            "ignored_columns": self.ignored_columns,
            "errors": [dict(zip(REPORT_HEADER, e, strict=True)) for e in self.errors],
        }


def detect_format(name: str, head: bytes) -> str:
    """csv or xlsx from the file name, checked against the first bytes (an XLSX file is a ZIP archive).
    Raises ImportRefused for anything else."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix == "xlsx":
        if not head.startswith(b"PK\x03\x04"):
            raise ImportRefused(_("文件扩展名是 .xlsx，但内容不是 XLSX 工作簿。"))
        return "xlsx"
    if suffix == "csv":
        if head.startswith(b"PK\x03\x04"):
            raise ImportRefused(_("文件扩展名是 .csv，但内容是压缩包（可能是 XLSX）：请改用 .xlsx 扩展名。"))
        return "csv"
    raise ImportRefused(_("只接受 CSV（.csv）或 Excel 工作簿（.xlsx）文件。"))


def _columns(columns: list[str], result: Result) -> dict[str, int]:
    lowered = [c.strip().lower() for c in columns]
    found: dict[str, int] = {}
    for name, aliases in ALIASES.items():
        for alias in aliases:
            if alias.lower() in lowered:
                found[name] = lowered.index(alias.lower())
                break
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        offered = "；".join(f"{name}（{'、'.join(ALIASES[name][1:])}）" for name in missing)
        raise ImportRefused(_("缺少必需的列：%(columns)s。") % {"columns": offered})
    used = set(found.values())
    result.ignored_columns = [c for i, c in enumerate(columns) if i not in used and c.strip()]
    return found


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = "" if value is None else str(value).strip()
        if not text:
            raise RowError("date", _("此项必填。"))
        try:
            if match := _DAY.fullmatch(text):
                day = date(int(match[1]), int(match[2]), int(match[3]))
            elif match := _MONTH.fullmatch(text):
                day = date(int(match[1]), int(match[2]), 1)
            else:
                raise ValueError
        except ValueError:
            raise RowError("date", _("应为日期（YYYY-MM-DD）或月份（YYYY-MM）。"), value) from None
    if not 1900 <= day.year <= 2100:
        raise RowError("date", _("年份应在 1900 到 2100 之间。"), value)
    if day > timezone.localdate():
        raise RowError("date", _("不能晚于今天：销量是已发生的数字。"), value)
    return day


class _Units:
    """Org units by id or by name (only a name no other unit has), looked up once each."""

    def __init__(self) -> None:
        self._known: dict[str, OrgUnit | str] = {}

    def get(self, value: Any) -> OrgUnit | None:
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        if text not in self._known:
            self._known[text] = self._find(text)
        found = self._known[text]
        if isinstance(found, str):
            raise RowError("org_unit", found, text)
        return found

    @staticmethod
    def _find(text: str) -> OrgUnit | str:
        if text.isdigit():
            unit = OrgUnit.objects.filter(pk=int(text)).first()
            if unit is not None:
                return unit
        units = list(OrgUnit.objects.filter(name=text)[:2])
        if len(units) == 1:
            return units[0]
        if units:
            return _("有多个组织单元叫这个名称，请改用组织单元编号。")
        return _("组织单元不存在（填写组织单元编号或名称）。")


def _orders(value: Any) -> int:
    text = "" if value is None else str(value).strip()
    if not text:
        raise RowError("orders", _("此项必填。"))
    if not _INTEGER.fullmatch(text):
        raise RowError("orders", _("应为不小于 0 的整数。"), value)
    number = int(text.replace(",", ""))
    if number > MAX_ORDERS:
        raise RowError("orders", _("数字过大：最多 %(n)s。") % {"n": f"{MAX_ORDERS:,}"}, value)
    return number


def _revenue(value: Any) -> Decimal | None:
    text = "" if value is None else str(value).strip().replace(",", "").lstrip("¥￥")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        raise RowError("revenue", _("应为数字（元）。"), value) from None
    if not amount.is_finite() or amount < 0:
        raise RowError("revenue", _("应为不小于 0 的金额（元）。"), value)
    if amount >= MAX_REVENUE:
        raise RowError("revenue", _("金额过大。"), value)
    if amount != amount.quantize(Decimal("0.01")):
        raise RowError("revenue", _("小数位数过多：最多 2 位。"), value)
    return amount.quantize(Decimal("0.01"))


def _product(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > 200:
        raise RowError("product", _("过长：最多 %(n)d 个字符。") % {"n": 200}, text)
    return text


Key = tuple[date, int | None, str]


@dataclass
class _Figure:
    orders: int
    revenue: Decimal | None


def _read(source_row: SourceRow, columns: dict[str, int], units: _Units) -> tuple[Key, _Figure]:
    cells = {name: source_row.cells[i] for name, i in columns.items()}
    # The first error found is the row's (one line per row in the report).
    day = _date(cells.get("date"))
    unit = units.get(cells.get("org_unit"))
    product = _product(cells.get("product"))
    orders = _orders(cells.get("orders"))
    revenue = _revenue(cells.get("revenue"))
    return (day, unit.pk if unit else None, product), _Figure(orders, revenue)


def _store(batch: dict[Key, _Figure], source: str, result: Result) -> None:
    """Upsert one batch: one query finds the figures held, then one bulk insert and one bulk update."""
    if not batch:
        return
    now = timezone.now()
    dates = {key[0] for key in batch}
    products = {key[2] for key in batch}
    held = {
        (row.date, row.org_unit_id, row.product): row
        for row in SalesVolume.objects.filter(date__in=dates, product__in=products)
    }
    new, changed = [], []
    for key, figure in batch.items():
        row = held.get(key)
        if row is None:
            new.append(
                SalesVolume(
                    date=key[0],
                    org_unit_id=key[1],
                    product=key[2],
                    orders=figure.orders,
                    revenue=figure.revenue,
                    source=source[:200],
                    imported_at=now,
                )
            )
        elif row.orders != figure.orders or row.revenue != figure.revenue:
            row.orders, row.revenue, row.source, row.imported_at = figure.orders, figure.revenue, source[:200], now
            changed.append(row)
        else:
            result.unchanged += 1
    try:
        with transaction.atomic():
            SalesVolume.objects.bulk_create(new)
    except IntegrityError:
        # Another import wrote one of these keys meanwhile: one row at a time, replacing it.
        for row in new:
            SalesVolume.objects.update_or_create(
                date=row.date,
                org_unit_id=row.org_unit_id,
                product=row.product,
                defaults={"orders": row.orders, "revenue": row.revenue, "source": row.source},
            )
    SalesVolume.objects.bulk_update(changed, ["orders", "revenue", "source", "imported_at"])
    result.created += len(new)
    result.updated += len(changed)


def import_file(raw: BinaryIO, *, fmt: str, source: str = "", dry_run: bool = False) -> Result:
    """Read and store one file. Raises ImportRefused when the file cannot be read at all."""
    if fmt not in FORMATS:
        raise ImportRefused(_("未知的文件格式：%(fmt)s（可选 csv、xlsx）。") % {"fmt": fmt})
    try:
        reader = open_reader(fmt, raw)
    except (FileError, EncodingError) as exc:
        raise ImportRefused(str(exc)) from exc
    result = Result(encoding=reader.encoding, dry_run=dry_run)
    columns = _columns(reader.columns, result)
    units = _Units()
    if dry_run:
        with transaction.atomic():
            _run(reader, columns, units, source, result)
            transaction.set_rollback(True)
    else:
        _run(reader, columns, units, source, result)  # each batch commits on its own
    return result


def _run(reader: Any, columns: dict[str, int], units: _Units, source: str, result: Result) -> None:
    batch: dict[Key, _Figure] = {}
    try:
        for source_row in reader:
            result.rows += 1
            if source_row.problem:
                result.errors.append([source_row.row, source_row.line, "", source_row.problem, ""])
                continue
            try:
                key, figure = _read(source_row, columns, units)
            except RowError as exc:
                result.errors.append([source_row.row, source_row.line, exc.field, exc.reason, exc.value])
                continue
            if key in batch:  # the same figure twice in a batch: the later row wins
                result.updated += 1
            batch[key] = figure
            if len(batch) >= BATCH:
                with transaction.atomic():
                    _store(batch, source, result)
                batch = {}
    except (FileError, EncodingError) as exc:
        raise ImportRefused(str(exc)) from exc
    with transaction.atomic():
        _store(batch, source, result)


def held_by_month(limit: int = 36) -> list[dict[str, Any]]:
    """The figures held, per month (newest first): the organisation's orders and revenue as the
    complaint rate reads them (analytics.sales.totals: the most specific level, never a total added to
    its own parts), and how many rows of each level the month holds."""
    from datetime import timedelta

    from django.db.models import Count, Q
    from django.db.models.functions import TruncMonth

    from .filters import Filters
    from .sales import totals

    months = (
        SalesVolume.objects.annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(
            rows=Count("pk"),
            unit_rows=Count("pk", filter=Q(org_unit__isnull=False)),
            product_rows=Count("pk", filter=~Q(product="")),
        )
        .order_by("-month")[:limit]
    )
    held = []
    for row in months:
        first = row["month"]
        first = first.date() if isinstance(first, datetime) else first
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        sales = totals(Filters(date_from=first, date_to=last))
        held.append(
            {
                "month": first.strftime("%Y-%m"),
                "orders": sales.orders,
                "revenue": sales.revenue,
                "rows": row["rows"],
                "unit_rows": row["unit_rows"],
                "product_rows": row["product_rows"],
            }
        )
    return held
