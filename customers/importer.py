"""Import of orders and service records from CSV or XLSX (docs/customers.md).

The file is read by the imports app's streaming readers (UTF-8 with or without BOM, GB18030/GBK
detected; XLSX's first sheet). Each row is matched to a customer by customer number, phone or
e-mail (customers.actions.match_or_create_customer: a new profile when none matches) and stored in
its own savepoint, so a malformed row is refused with its row number, field and reason while the
good rows land. Rows are idempotent by (customer, order_no) and (customer, reference): importing the
same file again creates nothing. A dry run does everything and rolls it back."""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.selectors import mask
from core.spreadsheet import safe_row
from imports.encoding import EncodingError
from imports.mapping import DateError, parse_when
from imports.readers import FileError, open_reader

from . import tiers
from .actions import match_or_create_customer
from .choices import ImportKind, ServiceKind
from .models import Customer, CustomerDataImport, Order, ServiceRecord
from .normalise import normalise_customer_no, normalise_email, normalise_phone

FORMATS = ("csv", "xlsx")
DATE_FORMATS = ["%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M", "%Y.%m.%d"]
REPORT_HEADER = ["row", "line", "field", "reason", "value"]

# Column names as files name them: English and Chinese headers both read (case-insensitive).
ALIASES: dict[str, tuple[str, ...]] = {
    "customer_no": ("customer_no", "客户编号", "会员号", "会员编号"),
    "phone": ("phone", "电话", "手机", "手机号", "联系电话"),
    "email": ("email", "e-mail", "邮箱", "电子邮箱"),
    "name": ("name", "姓名", "客户姓名"),
    "order_no": ("order_no", "订单号", "订单编号"),
    "ordered_at": ("ordered_at", "下单时间", "订单时间", "购买日期"),
    "product_name": ("product_name", "product", "产品", "产品名称", "商品名称"),
    "product_sku": ("product_sku", "sku", "商品编码"),
    "quantity": ("quantity", "数量"),
    "amount": ("amount", "金额", "实付金额"),
    "currency": ("currency", "币种"),
    "channel": ("channel", "store", "渠道", "门店", "渠道/门店"),
    "reference": ("reference", "单号", "服务单号", "工单号"),
    "kind": ("kind", "类型", "服务类型"),
    "occurred_at": ("occurred_at", "发生时间", "服务时间", "日期"),
    "description": ("description", "说明", "描述", "服务内容"),
}
REQUIRED = {
    ImportKind.ORDERS: ("order_no", "ordered_at", "amount"),
    ImportKind.SERVICE: ("reference", "kind", "occurred_at"),
}
# The service kinds as a file may write them: code or Chinese label.
_KINDS = {**{k: k for k in ServiceKind.values}, **{str(label): k for k, label in ServiceKind.choices}}
_KINDS.update({"维修": "repair", "安装": "installation", "保养": "maintenance", "退货": "return", "其他": "other"})


class ImportRefused(Exception):
    """The file cannot be read at all (encoding, format, missing columns): nothing is imported."""


@dataclass
class Result:
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    customers_created: int = 0
    encoding: str = ""
    errors: list[list[Any]] = field(default_factory=list)  # [row, line, field, reason, masked value]

    @property
    def refused(self) -> int:
        return len({e[0] for e in self.errors})


class RowError(Exception):
    """A refused row's field and reason, and its value masked (complaints.selectors.mask): the error
    report is kept with the run and read by importers, who need the row and the field to fix the
    file, not the person's phone, e-mail or name. A reason that quotes the value (a date parser's
    message) has it masked too."""

    def __init__(self, field_name: str, reason: str, value: Any = "") -> None:
        raw = "" if value is None else str(value).strip()
        shown = mask(field_name, raw[:200])
        if raw:  # imports.mapping quotes at most 40 characters, in “” (zh) or "" (en)
            for left, right in (("“", "”"), ('"', '"')):
                reason = reason.replace(f"{left}{raw[:40]}{right}", f"{left}{shown}{right}")
        super().__init__(reason)
        self.field = field_name
        self.reason = reason
        self.value = shown


def _columns(columns: list[str], kind: str) -> dict[str, int]:
    lowered = [c.strip().lower() for c in columns]
    found: dict[str, int] = {}
    for name, aliases in ALIASES.items():
        for alias in aliases:
            if alias.lower() in lowered:
                found[name] = lowered.index(alias.lower())
                break
    missing = [name for name in REQUIRED[ImportKind(kind)] if name not in found]
    if missing:
        raise ImportRefused(_("缺少必需的列：%(columns)s。") % {"columns": ", ".join(missing)})
    if not {"customer_no", "phone", "email"} & set(found):
        raise ImportRefused(_("至少需要一列用于匹配客户：customer_no、phone 或 email。"))
    return found


def _text(cells: dict[str, Any], name: str, maximum: int, *, required: bool = False) -> str:
    value = cells.get(name)
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise RowError(name, _("此项必填。"))
    if len(text) > maximum:
        raise RowError(name, _("过长：最多 %(n)d 个字符。") % {"n": maximum}, text)
    return text


def _when(cells: dict[str, Any], name: str) -> datetime:
    value = cells.get(name)
    try:
        when = parse_when(value, DATE_FORMATS)
    except DateError as exc:
        raise RowError(name, str(exc), value) from exc
    if when is None:
        raise RowError(name, _("此项必填。"))
    if when > timezone.now() + timedelta(days=1):
        raise RowError(name, _("不能晚于当前时间。"), value)
    return when


def _customer(cells: dict[str, Any]) -> Customer:
    raw_no, raw_phone, raw_email = (_text(cells, n, 254) for n in ("customer_no", "phone", "email"))
    customer_no = normalise_customer_no(raw_no) if raw_no else ""
    if customer_no is None:
        raise RowError("customer_no", _("客户编号只能含字母、数字和 . _ / -，最多 64 个字符。"), raw_no)
    phone = normalise_phone(raw_phone) if raw_phone else ""
    if phone is None:
        raise RowError("phone", _("电话号码无效。"), raw_phone)
    email = normalise_email(raw_email) if raw_email else ""
    if email is None:
        raise RowError("email", _("电子邮箱地址无效。"), raw_email)
    if not (customer_no or phone or email):
        raise RowError("customer_no", _("需要客户编号、电话或电子邮箱之一，才能匹配客户。"))
    name = _text(cells, "name", 100)
    return match_or_create_customer(name=name, phone=phone, email=email, customer_no=customer_no)


def _order(cells: dict[str, Any], source: str) -> tuple[bool, int]:
    order_no = _text(cells, "order_no", 64, required=True)
    ordered_at = _when(cells, "ordered_at")
    raw_amount = cells.get("amount")
    try:
        amount = Decimal(str(raw_amount).strip().replace(",", "").lstrip("¥￥"))
    except (InvalidOperation, ValueError):
        raise RowError("amount", _("应为数字。"), raw_amount) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise RowError("amount", _("金额应为 0 到 999,999,999,999 之间的数字。"), raw_amount)
    if amount != amount.quantize(Decimal("0.01")):
        raise RowError("amount", _("小数位数过多：最多 2 位。"), raw_amount)
    raw_quantity = cells.get("quantity")
    quantity = 1
    if raw_quantity not in (None, ""):
        text = str(raw_quantity).strip()
        if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
            raise RowError("quantity", _("数量应为 1 到 1,000,000 之间的整数。"), raw_quantity)
        quantity = int(text)
    currency = (_text(cells, "currency", 3) or "CNY").upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise RowError("currency", _("币种应为三个字母的代码（如 CNY）。"), currency)
    product_name = _text(cells, "product_name", 200)
    product_sku = _text(cells, "product_sku", 64)
    channel = _text(cells, "channel", 100)
    customer = _customer(cells)
    _order, made = Order.objects.get_or_create(
        customer=customer,
        order_no=order_no,
        defaults={
            "ordered_at": ordered_at,
            "product_name": product_name,
            "product_sku": product_sku,
            "quantity": quantity,
            "amount": amount,
            "currency": currency,
            "channel": channel,
            "source": source[:100],
        },
    )
    return made, customer.pk


def _service(cells: dict[str, Any], source: str) -> tuple[bool, int]:
    reference = _text(cells, "reference", 64, required=True)
    raw_kind = _text(cells, "kind", 40, required=True)
    kind = _KINDS.get(raw_kind.lower()) or _KINDS.get(raw_kind)
    if kind is None:
        offered = "、".join(f"{code}（{label}）" for code, label in ServiceKind.choices)
        raise RowError("kind", _("取值无效，可选：%(values)s。") % {"values": offered}, raw_kind)
    occurred_at = _when(cells, "occurred_at")
    product = _text(cells, "product_name", 200)
    description = _text(cells, "description", 5000)
    customer = _customer(cells)
    _record, made = ServiceRecord.objects.get_or_create(
        customer=customer,
        reference=reference,
        defaults={
            "kind": kind,
            "occurred_at": occurred_at,
            "product": product,
            "description": description,
            "source": source[:100],
        },
    )
    return made, customer.pk


def import_file(raw: BinaryIO, *, kind: str, fmt: str, source: str = "", dry_run: bool = False) -> Result:
    """Read and store one file. Raises ImportRefused when the file cannot be read at all."""
    if kind not in ImportKind.values:
        raise ImportRefused(_("未知的导入类型：%(kind)s。") % {"kind": kind})
    if fmt not in FORMATS:
        raise ImportRefused(_("未知的文件格式：%(fmt)s（可选 csv、xlsx）。") % {"fmt": fmt})
    try:
        reader = open_reader(fmt, raw)
    except (FileError, EncodingError) as exc:
        raise ImportRefused(str(exc)) from exc
    columns = _columns(reader.columns, kind)
    store = _order if kind == ImportKind.ORDERS else _service
    result = Result(encoding=reader.encoding)
    touched: set[int] = set()
    with transaction.atomic():
        before = Customer.objects.count()
        try:
            for source_row in reader:
                result.rows += 1
                if source_row.problem:
                    result.errors.append([source_row.row, source_row.line, "", source_row.problem, ""])
                    continue
                cells = {name: source_row.cells[i] for name, i in columns.items()}
                try:
                    with transaction.atomic():
                        made, customer_id = store(cells, source)
                except RowError as exc:
                    result.errors.append([source_row.row, source_row.line, exc.field, exc.reason, exc.value])
                    continue
                if made:
                    result.created += 1
                else:
                    result.unchanged += 1
                touched.add(customer_id)
        except (FileError, EncodingError) as exc:
            raise ImportRefused(str(exc)) from exc
        result.customers_created = Customer.objects.count() - before
        if kind == ImportKind.ORDERS and not dry_run:
            tiers.refresh(sorted(touched))
        if dry_run:
            transaction.set_rollback(True)
    return result


def record_run(result: Result, *, kind: str, filename: str, dry_run: bool, user: Any = None) -> CustomerDataImport:
    return CustomerDataImport.objects.create(
        kind=kind,
        filename=filename[:255],
        encoding=result.encoding,
        dry_run=dry_run,
        created_by=user,
        rows=result.rows,
        created=result.created,
        unchanged=result.unchanged,
        customers_created=result.customers_created,
        errors=result.errors,
    )


def error_report(errors: list[list[Any]]) -> str:
    """The refused rows as CSV (UTF-8 with BOM for Excel), every cell neutralised for spreadsheets:
    the values came from outside and may carry formulas."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(REPORT_HEADER)
    writer.writerows(safe_row(error) for error in errors)
    return out.getvalue()
