"""Exports of a filtered case list: CSV, Excel, Parquet and the CFPB field set.

Rows are read with `iterator(chunk_size=...)` and written as they come, so memory stays constant
whatever the size of the list; a list longer than COMPLAINTDESK_REPORTS_MAX_ROWS is refused (the
download runs in a request, see docs/reports.md). Personal data is masked
(complaints.selectors.mask_for_analyst) unless the user asked for it and may see it on that case
(Principal.masked_for); every case whose personal data (any column in complaints.ledgering.
PERSONAL_FIELDS: names and contacts, and the free text of title and description) leaves unmasked, and
every case whose narrative goes out in the CFPB file, gets an `export_personal` ledger event
(how=EXPORT_HOW), written chunk by chunk before the chunk is sent."""

import csv
import io
import tempfile
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.choices import OrgUnitKind
from accounts.models import OrgUnit, User
from complaints.choices import Channel, Outcome, Status
from complaints.ledgering import PERSONAL_FIELDS, Actor
from complaints.models import Complaint
from complaints.permissions import Principal
from complaints.selectors import filtered, mask_for_analyst
from core.errors import ValidationError
from core.spreadsheet import safe_row
from privacy.audit import record_personal_access
from resolutions.choices import RemedyKind

from .inputs import ExportRequest

CHUNK = 2000
# The access kind of privacy.audit for a file export: makes the event `export_personal`.
EXPORT_HOW = "export_file"


def columns() -> list[tuple[str, str]]:
    """(field, header) of the case-list export, in order."""
    return [
        ("tracking_no", _("投诉编号")),
        ("received_at", _("登记时间")),
        ("status", _("状态")),
        ("channel", _("渠道")),
        ("priority", _("优先级")),
        ("category", _("分类")),
        ("subcategory", _("子分类")),
        ("department", _("部门")),
        ("org_unit", _("组织单元")),
        ("owner", _("经办人")),
        ("title", _("标题")),
        ("description", _("投诉内容")),
        ("product_name", _("产品/服务")),
        ("complainant_name", _("投诉人姓名")),
        ("complainant_phone", _("电话")),
        ("complainant_email", _("电子邮箱")),
        ("complainant_address", _("地址")),
        ("amount_claimed", _("索赔金额")),
        ("outcome", _("处理结果")),
        ("resolved_at", _("解决时间")),
        ("closed_at", _("结案时间")),
    ]


def export_queryset(user: User, request: ExportRequest) -> QuerySet:
    cases = Complaint.objects.visible_to(user).select_related(
        "category", "subcategory", "department", "owner", "org_unit"
    )
    # A confirmed duplicate lives on in its survivor (as in reports.figures.cases).
    cases = cases.exclude(status=Status.MERGED).filter(merged_into__isnull=True)
    return filtered(cases, request.filters).order_by("received_at", "pk")


def check_size(user: User, request: ExportRequest) -> int:
    """The number of rows, refused above COMPLAINTDESK_REPORTS_MAX_ROWS: the file is written inside
    the request (sync workers, a 60 s timeout), so a longer list would be cut off half-way."""
    total = export_queryset(user, request).count()
    limit = settings.COMPLAINTDESK_REPORTS_MAX_ROWS
    if total > limit:
        raise ValidationError(
            "received_to",
            _(
                "筛选结果有 %(n)d 件，超过单次导出上限 %(limit)d 件。"
                "请缩短日期范围或增加筛选条件（状态、分类、部门等）后分批导出。"
            )
            % {"n": total, "limit": limit},
        )
    return total


def _local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


CASE_KEYS = (
    "tracking_no", "received_at", "status", "channel", "priority", "category", "subcategory",
    "department", "org_unit", "owner", "title", "description", "product_name", "complainant_name",
    "complainant_phone", "complainant_email", "complainant_address", "amount_claimed", "outcome",
    "resolved_at", "closed_at",
)  # fmt: skip


def case_row(c: Complaint) -> dict[str, Any]:
    return {
        "tracking_no": c.tracking_no,
        "received_at": _local(c.received_at),
        "status": str(Status(c.status).label),
        "channel": str(Channel(c.channel).label) if c.channel in Channel.values else c.channel,
        "priority": c.priority,
        "category": c.category.code if c.category_id else "",
        "subcategory": c.subcategory.code if c.subcategory_id else "",
        "department": c.department.code if c.department_id else "",
        "org_unit": c.org_unit.name if c.org_unit_id else "",
        "owner": c.owner.get_username() if c.owner_id else "",
        "title": c.title,
        "description": c.description,
        "product_name": c.product_name,
        "complainant_name": c.complainant_name,
        "complainant_phone": c.complainant_phone,
        "complainant_email": c.complainant_email,
        "complainant_address": c.complainant_address,
        "amount_claimed": c.amount_claimed,
        "outcome": str(Outcome(c.outcome).label) if c.outcome else "",
        "resolved_at": _local(c.resolved_at),
        "closed_at": _local(c.closed_at),
    }


class RowMaker:
    """How one format turns a case into a row: `prepare` reads what a chunk needs in one query,
    `personal` says whether the row carries personal data out (a ledger event is due)."""

    def prepare(self, chunk: list[Complaint]) -> None:
        return None

    def row(self, c: Complaint, masked: bool) -> dict[str, Any]:
        raise NotImplementedError

    def masked(self, principal: Principal, request: ExportRequest, c: Complaint) -> bool:
        return not request.include_personal or principal.masked_for(c)

    def personal(self, row: dict[str, Any], masked: bool) -> bool:
        raise NotImplementedError


class Rows:
    """The export's rows, masked where they must be, with the ledger events of the unmasked ones."""

    def __init__(self, user: User, request: ExportRequest, maker: RowMaker) -> None:
        self.user = user
        self.request = request
        self.maker = maker
        self.principal = Principal.of(user)
        self.count = 0
        self.recorded = 0

    def chunks(self) -> Iterator[list[dict[str, Any]]]:
        chunk: list[Complaint] = []
        for c in export_queryset(self.user, self.request).iterator(chunk_size=CHUNK):
            chunk.append(c)
            if len(chunk) >= CHUNK:
                yield self._finish(chunk)
                chunk = []
        if chunk:
            yield self._finish(chunk)

    def _finish(self, chunk: list[Complaint]) -> list[dict[str, Any]]:
        self.maker.prepare(chunk)
        rows = []
        seen = []
        for c in chunk:
            masked = self.maker.masked(self.principal, self.request, c)
            row = self.maker.row(c, masked)
            if self.maker.personal(row, masked):
                seen.append(c.pk)
            rows.append(row)
        if seen:
            self.recorded += record_personal_access(
                seen, actor=Actor.staff(self.user), how=EXPORT_HOW, detail={"export": self.request.format}
            )
        self.count += len(chunk)
        return rows


class StandardRows(RowMaker):
    # The columns that are personal data (complaints.ledgering.PERSONAL_FIELDS): free text included.
    PERSONAL = tuple(k for k in CASE_KEYS if k in PERSONAL_FIELDS)

    def row(self, c: Complaint, masked: bool) -> dict[str, Any]:
        row = case_row(c)
        return mask_for_analyst(row) if masked else row

    def personal(self, row: dict[str, Any], masked: bool) -> bool:
        return not masked and any(row[k] not in (None, "") for k in self.PERSONAL)


# --- CFPB's published field set (the columns imports/cfpb.py reads, inverted) -------------------

CFPB_SUBMITTED_VIA = {
    Channel.WEB: "Web",
    Channel.API: "Web",
    Channel.WECHAT: "Web",
    Channel.ECOMMERCE_PLATFORM: "Web",
    Channel.SOCIAL_MEDIA: "Web",
    Channel.EMAIL: "Email",
    Channel.PHONE: "Phone",
    Channel.LETTER: "Postal mail",
    Channel.REGULATOR_REFERRAL: "Referral",
}
# How imports/cfpb.py begins the description it composes when a record has no narrative.
SUMMARY_PREFIX = "[CFPB] "
_OPEN_CFPB = {Status.NEW, Status.ACCEPTED, Status.IN_PROGRESS, Status.AWAITING_CONSUMER,
              Status.RESOLUTION_PROPOSED, Status.EXTERNAL, Status.REOPENED}  # fmt: skip


def company_name() -> str:
    configured = settings.COMPLAINTDESK_REPORTS_COMPANY
    if configured:
        return configured
    root = OrgUnit.objects.filter(kind=OrgUnitKind.COMPANY, parent__isnull=True).order_by("pk").first()
    return root.name if root else "ComplaintDesk"


# Paid remedies of these kinds are relief for the consumer without money (a paid remedy with an
# amount is monetary relief); an apology or explanation is an explanation, a corrective action is a
# change in the organisation.
NON_MONETARY_RELIEF = frozenset(
    {RemedyKind.REPAIR, RemedyKind.REPLACEMENT, RemedyKind.RETURN_REFUND, RemedyKind.GOODWILL,
     RemedyKind.SERVICE_UPGRADE}
)  # fmt: skip


def cfpb_response(c: Complaint, relief: str = "", original: str = "") -> str:
    """Company response to consumer. `relief` is "monetary", "non_monetary" or "" (from the case's
    paid remedies); `original` the response of a case imported from CFPB, used while the case is
    still closed as imported."""
    if c.status in _OPEN_CFPB or c.status == Status.RESOLVED:
        if c.accepted_at is None and c.ack_breached_at is not None:
            return "Untimely response"
        return "In progress"
    if original:
        return original
    if c.outcome in (Outcome.ACCEPTED, Outcome.EXECUTED):
        if relief == "monetary":
            return "Closed with monetary relief"
        if relief == "non_monetary":
            return "Closed with non-monetary relief"
        return "Closed with explanation"
    if c.outcome == Outcome.FINAL_DECISION:
        return "Closed without relief"
    return "Closed"


class CfpbRows(RowMaker):
    """CFPB's published field set. No personal columns: include_personal does not apply; the
    narrative (the description, contact details masked) is personal data and gets its event."""

    def __init__(self, request: ExportRequest) -> None:
        from imports import cfpb

        self.cfpb = cfpb
        self.request = request
        self.company = company_name()
        self.relief: dict[int, str] = {}
        self.import_facts: dict[int, dict[str, Any]] = {}

    def prepare(self, chunk: list[Complaint]) -> None:
        """Two queries per chunk: the paid remedies, and the import event of the imported cases."""
        from imports.writer import ACTION as IMPORT_ACTION
        from ledger.models import LedgerEvent
        from resolutions.choices import RemedyStatus
        from resolutions.models import Remedy

        self.relief = {}
        paid = Remedy.objects.filter(complaint_id__in=[c.pk for c in chunk], status=RemedyStatus.PAID)
        for complaint_id, kind, amount in paid.values_list("complaint_id", "kind", "amount"):
            if amount is not None and amount > Decimal(0):
                self.relief[complaint_id] = "monetary"
            elif kind in NON_MONETARY_RELIEF:
                self.relief.setdefault(complaint_id, "non_monetary")
        imported = [c.pk for c in chunk if c.external_source == self.cfpb.SOURCE]
        self.import_facts = {}
        if imported:
            events = LedgerEvent.objects.filter(complaint_id__in=imported, seq=1, action=IMPORT_ACTION)
            for complaint_id, data in events.values_list("complaint_id", "data"):
                facts = (data or {}).get("cfpb")
                if isinstance(facts, dict):
                    self.import_facts[complaint_id] = facts

    def masked(self, principal: Principal, request: ExportRequest, c: Complaint) -> bool:
        return True  # no personal columns; the narrative is masked for contact details always

    def personal(self, row: dict[str, Any], masked: bool) -> bool:
        return bool(row[self.cfpb.NARRATIVE])

    def original_response(self, c: Complaint) -> str:
        """The CFPB response of an imported case still closed as imported (the importer keeps it as
        the outcome note); "" otherwise."""
        if c.external_source != self.cfpb.SOURCE or c.status != Status.CLOSED:
            return ""
        note = c.outcome_note.strip()
        return note.capitalize() if note and note.casefold() in self.cfpb.RESPONSES else ""

    def row(self, c: Complaint, masked: bool) -> dict[str, Any]:
        cfpb = self.cfpb
        imported = c.external_source == cfpb.SOURCE
        facts = self.import_facts.get(c.pk, {}) if imported else {}
        if imported and " / " in c.title:
            issue, _sep, sub_issue = c.title.partition(" / ")
        elif imported:
            issue, sub_issue = c.title, ""
        else:
            issue = (c.category.name_en or c.category.name) if c.category_id else ""
            sub_issue = (c.subcategory.name_en or c.subcategory.name) if c.subcategory_id else ""
        narrative = ""
        # The importer writes a summary ("[CFPB] product. issue. Company: …") where the consumer gave
        # no narrative: that is not the consumer's text and does not go back out as one.
        made_up = imported and c.description.startswith(SUMMARY_PREFIX)
        if self.request.include_narrative and not made_up:
            # Contact details written into the text are masked always; the name fields never go out.
            narrative = mask_for_analyst({"description": c.description})["description"]
        zip_code = c.postal_code if c.country == "US" else ""
        if len(zip_code) >= 5 and zip_code[:5].isdigit():
            zip_code = zip_code[:3] + "XX"  # CFPB's own practice: the first three digits
        sent = c.accepted_at or c.acknowledged_at
        late = c.ack_breached_at is not None or c.resolution_breached_at is not None
        return {
            cfpb.RECEIVED: timezone.localtime(c.received_at).date().isoformat(),
            cfpb.PRODUCT: c.product_name,
            # Imported cases keep the sub-product only in the import event's data.
            cfpb.SUB_PRODUCT: str(facts.get("sub_product", "")) if imported else c.product_model,
            cfpb.ISSUE: issue,
            cfpb.SUB_ISSUE: sub_issue,
            cfpb.NARRATIVE: narrative,
            cfpb.PUBLIC_RESPONSE: "",
            cfpb.COMPANY: self.company,
            cfpb.STATE: c.us_state if c.country == "US" else "",
            cfpb.ZIP: zip_code,
            cfpb.TAGS: "",
            cfpb.CONSENT: "Other" if narrative else "Consent not provided",
            cfpb.VIA: CFPB_SUBMITTED_VIA.get(c.channel, "Other"),  # type: ignore[call-overload]
            cfpb.SENT: timezone.localtime(sent).date().isoformat() if sent else "",
            cfpb.RESPONSE: cfpb_response(c, self.relief.get(c.pk, ""), self.original_response(c)),
            cfpb.TIMELY: "No" if late else "Yes",
            cfpb.DISPUTED: "Yes" if c.reopen_count or c.appealed else "No",
            cfpb.ID: c.external_id if imported and c.external_id else c.tracking_no,
        }


# --- writers ------------------------------------------------------------------------------------


class _Line:
    """A file-like object that hands back what csv.writer writes."""

    def write(self, value: str) -> str:
        return value


def _csv_stream(rows: Rows, headers: list[str], keys: list[str], encoding: str, language: str) -> Iterator[bytes]:
    with translation.override(language):
        writer = csv.writer(_Line())
        codec = "gb18030" if encoding == "gb18030" else "utf-8"
        # The BOM tells Excel the file is UTF-8 (otherwise it reads it in the system's code page).
        yield (("\ufeff" if codec == "utf-8" else "") + writer.writerow(safe_row(headers))).encode(codec)
        for chunk in rows.chunks():
            text = "".join(writer.writerow(safe_row(r[k] for k in keys)) for r in chunk)
            yield text.encode(codec, errors="replace")


def _xlsx_file(rows: Rows, headers: list[str], keys: list[str]) -> Any:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)  # rows go to a temporary file, not memory
    sheet = workbook.create_sheet(_("投诉"))
    sheet.append(safe_row(headers))
    for chunk in rows.chunks():
        for r in chunk:
            sheet.append(safe_row(r[k] for k in keys))
    target = tempfile.TemporaryFile()
    workbook.save(target)
    target.seek(0)
    return target


def _parquet_file(rows: Rows, keys: list[str]) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(k, pa.string()) for k in keys])
    target = tempfile.TemporaryFile()
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        for chunk in rows.chunks():
            columns = {k: [None if r[k] in (None, "") else str(r[k]) for r in chunk] for k in keys}
            writer.write_table(pa.table(columns, schema=schema))
        if rows.count == 0:
            writer.write_table(pa.table({k: [] for k in keys}, schema=schema))
    target.seek(0)
    return target


def build(user: User, request: ExportRequest, language: str) -> tuple[str, str, Any]:
    """(filename, content type, body): body is an iterator of bytes (CSV) or an open file."""
    from imports import cfpb

    check_size(user, request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if request.format == "cfpb":
        rows = Rows(user, request, CfpbRows(request))
        keys = headers = list(cfpb.COLUMNS)
        charset = "gb18030" if request.encoding == "gb18030" else "utf-8"
        return (
            f"cfpb-{stamp}.csv",
            f"text/csv; charset={charset}",
            _csv_stream(rows, headers, keys, request.encoding, language),
        )
    with translation.override(language):
        cols = columns()
    keys = [k for k, _h in cols]
    headers = [h for _k, h in cols]
    rows = Rows(user, request, StandardRows())
    if request.format == "csv":
        charset = "gb18030" if request.encoding == "gb18030" else "utf-8"
        return (
            f"complaints-{stamp}.csv",
            f"text/csv; charset={charset}",
            _csv_stream(rows, headers, keys, request.encoding, language),
        )
    if request.format == "xlsx":
        with translation.override(language):
            body = _xlsx_file(rows, headers, keys)
        return (
            f"complaints-{stamp}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            body,
        )
    with translation.override(language):
        body = _parquet_file(rows, keys)
    return f"complaints-{stamp}.parquet", "application/vnd.apache.parquet", body


def response(user: User, request: ExportRequest, language: str) -> Any:
    from django.http import FileResponse, StreamingHttpResponse

    filename, content_type, body = build(user, request, language)
    if isinstance(body, io.IOBase) or hasattr(body, "read"):
        result: Any = FileResponse(body, as_attachment=True, filename=filename, content_type=content_type)
    else:
        result = StreamingHttpResponse(body, content_type=content_type)
        result["Content-Disposition"] = f'attachment; filename="{filename}"'
    return result


def may_include_personal(user: User) -> bool:
    """Whether the user sees unmasked personal data on some case: anyone but an analyst alone."""
    principal = Principal.of(user)
    from accounts.choices import Role

    return bool(principal.roles - {Role.ANALYST, Role.ADMIN})
