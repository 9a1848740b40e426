"""Reads of customer profiles: the search list, the profile (page and API), the case-page panel.
Access is decided in customers.access; complaints are listed through Complaint.objects.visible_to."""

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from complaints.choices import OPEN_STATES
from complaints.selectors import mask
from core.fieldcrypt import contact_query

from . import churn, tiers
from .access import Access, reachable_customers
from .choices import CareStatus, ValueTier
from .models import CareAction, Customer, Order, ServiceRecord
from .normalise import normalise_customer_no

LIST_LIMIT = 50
ROWS_LIMIT = 200


def search(user, q: str, *, masked: bool) -> QuerySet[Customer]:  # type: ignore[no-untyped-def]
    """Profiles matching q by customer number, name, or a whole phone number (any format), e-mail
    address or ID number. A viewer who
    sees personal data masked (an analyst) searches by customer number only: a name or phone search
    would tell them whether a person is a customer."""
    queryset = reachable_customers(user).order_by("-id")
    text = (q or "").strip()
    if not text:
        return queryset[:LIST_LIMIT]
    query = Q(pk__in=[])
    number = normalise_customer_no(text)
    if number:
        query |= Q(customer_no=number)
    if not masked:
        query |= Q(name__icontains=text)
        # A whole phone number (any common writing), e-mail address or ID number, matched exactly
        # through the keyed hashes: the columns hold ciphertext, so part of a number finds nothing.
        contact = contact_query(text, {"phone": "phone_hash", "email": "email_hash", "id_number": "id_number_hash"})
        if contact is not None:
            query |= contact
    return queryset.filter(query)[:LIST_LIMIT]


def contact(customer: Customer, *, masked: bool) -> dict[str, Any]:
    data = {
        "id": customer.pk,
        "customer_no": customer.customer_no,
        "name": customer.name,
        "phone": customer.phone,
        "email": customer.email,
        "address": customer.address,
        "id_number": customer.id_number,
    }
    if masked:
        data["name"] = mask("complainant_name", customer.name)
        data["phone"] = mask("complainant_phone", customer.phone)
        data["email"] = mask("complainant_email", customer.email)
        data["address"] = mask("complainant_address", customer.address)
        data["id_number"] = mask("id_number", customer.id_number)
    return data


def list_rows(customers: list[Customer]) -> list[dict[str, Any]]:
    """The search list's rows, masked for every viewer: a list is no recorded view of personal data
    (a ledger event per row would be noise), so the full details are only on the profile, whose
    unmasked view is a view_personal event."""
    found = tiers.tiers_of([c.pk for c in customers])
    return [{**contact(c, masked=True), "tier": found[c.pk].tier, "tier_label": found[c.pk].label} for c in customers]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def profile(customer: Customer, user, access: Access, now: datetime | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Everything the profile shows, in a fixed number of queries whatever the history's size."""
    from complaints.models import Complaint

    now = now or timezone.now()
    masked = access.masked
    everything = list(Complaint.objects.filter(customer_id=customer.pk).values(*churn.COMPLAINT_FIELDS, "tracking_no"))
    answers = churn.satisfaction_for(customer.pk)
    risk = churn.score(everything, answers, now)
    tier = tiers.tier_of(customer.pk, now)
    visible = list(
        Complaint.objects.visible_to(user)
        .filter(customer_id=customer.pk)
        .select_related("category", "department", "owner")
        .order_by("-received_at")
    )
    # The churn score above counts every case and answer (numbers only); what is shown as text —
    # survey answers with their comments, care actions with their notes and tracking numbers — is
    # that of the cases this user sees, and care actions of no case (the profile's own).
    visible_ids = {c.pk for c in visible}
    visible_numbers = {c.tracking_no for c in visible}
    answers_shown = [a for a in answers if a.get("tracking_no") in visible_numbers]
    orders = list(Order.objects.filter(customer_id=customer.pk)[:ROWS_LIMIT])
    services = list(ServiceRecord.objects.filter(customer_id=customer.pk)[:ROWS_LIMIT])
    cares = [
        care
        for care in CareAction.objects.filter(customer_id=customer.pk)
        .select_related("assignee", "complaint", "done_by")
        .order_by("status", "due_at")
        if care.complaint_id is None or care.complaint_id in visible_ids
    ]
    if masked:
        for order in orders:
            order.order_no = mask("order_no", order.order_no)
        for record in services:
            record.description = "***" if record.description else ""
        for care in cares:
            care.note = "***" if care.note else ""
            care.done_note = "***" if care.done_note else ""
        answers_shown = [{**a, "comment": "***" if a.get("comment") else ""} for a in answers_shown]
    return {
        "customer": customer,
        "contact": contact(customer, masked=masked),
        "masked": masked,
        "writer": access.writer,
        "tier": tier,
        "churn": risk,
        "orders": orders,
        "services": services,
        "cares": cares,
        "complaints": visible,
        "complaint_ids": [c["id"] for c in everything],
        "counts": {
            "all": len(everything),
            "open": sum(c["status"] in OPEN_STATES for c in everything),
            "visible": len(visible),
            "last_90_days": sum(c["received_at"] >= now - churn.RECENT for c in everything),
        },
        "satisfaction": answers_shown,
        "open_cares": [c for c in cares if c.status == CareStatus.OPEN],
    }


def profile_json(data: dict[str, Any]) -> dict[str, Any]:
    tier, risk = data["tier"], data["churn"]
    return {
        **data["contact"],
        "masked": data["masked"],
        "value_tier": {
            "tier": tier.tier,
            "label": tier.label,
            "spend_12m": str(tier.spend),
            "orders_12m": tier.orders,
            "why": tier.why,
        },
        # Counted over all the person's cases and survey answers, including those this user does not
        # see (numbers only; their text is not in this response).
        "churn_risk": {**risk.as_dict(), "basis": "all_complaints_and_answers"},
        "complaint_counts": data["counts"],
        "complaints": [
            {
                "tracking_no": c.tracking_no,
                "status": c.status,
                "received_at": _iso(c.received_at),
                "category": c.category.code if c.category_id else None,
                "severity": c.severity,
                "priority": c.priority,
            }
            for c in data["complaints"]
        ],
        "orders": [
            {
                "order_no": o.order_no,
                "ordered_at": _iso(o.ordered_at),
                "product_name": o.product_name,
                "product_sku": o.product_sku,
                "quantity": o.quantity,
                "amount": str(o.amount),
                "currency": o.currency,
                "channel": o.channel,
            }
            for o in data["orders"]
        ],
        "service_records": [
            {
                "reference": s.reference,
                "kind": s.kind,
                "occurred_at": _iso(s.occurred_at),
                "product": s.product,
                "description": s.description,
            }
            for s in data["services"]
        ],
        "care_actions": [care_json(c) for c in data["cares"]],
        "satisfaction": [
            {
                **a,
                "answered_at": _iso(a.get("answered_at"))
                if isinstance(a.get("answered_at"), datetime)
                else a.get("answered_at"),
            }
            for a in data["satisfaction"]
        ],
    }


def may_see_care(user, care: CareAction) -> bool:  # type: ignore[no-untyped-def]
    """Whether the profile shows this care action to this user: they may open the profile and, for
    one tied to a case, see that case."""
    from .access import may_see_complaint, profile_access

    return profile_access(user, care.customer).allowed and may_see_complaint(user, care.complaint_id)


def care_json(care: CareAction) -> dict[str, Any]:
    return {
        "id": care.pk,
        "kind": care.kind,
        "status": care.status,
        "tracking_no": care.complaint.tracking_no if care.complaint_id else None,
        "assignee": care.assignee.get_username() if care.assignee_id else None,
        "due_at": _iso(care.due_at),
        "automatic": care.automatic,
        "reason": care.reason,
        "note": care.note,
        "done_at": _iso(care.done_at),
        "done_note": care.done_note,
    }


def panel_for(complaint, user) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    """The case page's customer panel: tier, churn risk, open care actions, the link. Three queries."""
    if complaint.customer_id is None:
        return None
    now = timezone.now()
    tier = tiers.tier_of(complaint.customer_id, now)
    risk = churn.churn_of(complaint.customer_id, now)
    open_cares = list(
        CareAction.objects.filter(customer_id=complaint.customer_id, status=CareStatus.OPEN)
        .select_related("assignee", "complaint")
        .order_by("due_at")
    )
    return {
        "customer_id": complaint.customer_id,
        "tier": tier,
        "valued": tier.tier in (ValueTier.GOLD, ValueTier.VIP),
        "churn": risk,
        "open_cares": open_cares,
        "now": now,
    }


def my_care_actions(user, state: str = "open") -> QuerySet[CareAction]:  # type: ignore[no-untyped-def]
    queryset = CareAction.objects.filter(assignee=user).select_related("customer", "complaint")
    if state in CareStatus.values:
        queryset = queryset.filter(status=state)
    return queryset.order_by("due_at", "id")
