"""Reads of remedies: the case page's panel, the API's description, and the totals analytics uses."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from complaints.actions import check_may
from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.permissions import Principal

from . import authority, negotiation, statutory
from .choices import AUTHORISED, CURRENCIES, LIVE, OfferSide, OfferStatus, RemedyKind, RemedyStatus, Step
from .models import Offer, Remedy

CENT = Decimal("0.01")


def remedies_of(complaint: Complaint) -> QuerySet[Remedy]:
    return (
        Remedy.objects.filter(complaint=complaint)
        .select_related("proposed_by", "paid_by")
        .prefetch_related("approvals__decided_by")
        .order_by("id")
    )


def describe(remedy: Remedy, *, masked: bool = False) -> dict[str, Any]:
    """A remedy for the API (free text withheld from a masked reader)."""
    return {
        "id": remedy.pk,
        "kind": remedy.kind,
        "kind_label": str(remedy.get_kind_display()),
        "description": "***" if masked and remedy.description else remedy.description,
        "amount": None if remedy.amount is None else format(remedy.amount, "f"),
        "currency": remedy.currency,
        "statutory_basis": remedy.statutory_basis,
        "status": remedy.status,
        "status_label": str(remedy.get_status_display()),
        "required_steps": remedy.required_steps,
        "open_steps": authority.open_steps(remedy) if remedy.status == RemedyStatus.PENDING_APPROVAL else [],
        "proposed_by": remedy.proposed_by.get_username(),
        "proposed_at": remedy.proposed_at.isoformat(),
        "approvals": [
            {
                "step": a.step,
                "decision": a.decision,
                "decided_by": a.decided_by.get_username(),
                "comment": "***" if masked and a.comment else a.comment,
                "decided_at": a.decided_at.isoformat(),
            }
            for a in remedy.approvals.all()
        ],
        "paid_reference": remedy.paid_reference,
        "paid_at": remedy.paid_at.isoformat() if remedy.paid_at else None,
    }


def _rows(queryset: QuerySet[Remedy]) -> list[dict[str, Any]]:
    return [
        {
            "kind": row["kind"],
            "currency": row["currency"],
            "total": Decimal(row["total"] or 0).quantize(CENT),
            "count": row["n"],
        }
        for row in queryset.values("kind", "currency")
        .annotate(total=Sum("amount"), n=Count("id"))
        .order_by("kind", "currency")
    ]


def totals_for_case(complaint: Complaint) -> dict[str, list[dict[str, Any]]]:
    """Sums by kind and currency: authorised (within authority or approved, not yet executed),
    pending approval, and paid."""
    remedies = Remedy.objects.filter(complaint=complaint, amount__isnull=False)
    return {
        "authorised": _rows(remedies.filter(status__in=AUTHORISED)),
        "pending": _rows(remedies.filter(status=RemedyStatus.PENDING_APPROVAL)),
        "paid": _rows(remedies.filter(status=RemedyStatus.PAID)),
    }


# Case fields analytics may filter the period totals by (as complaint__<name>).
PERIOD_FILTERS = frozenset({"department", "department_id", "org_unit", "org_unit_id", "category", "category_id"})


def totals_for_period(start: datetime, end: datetime, **filters: Any) -> dict[str, list[dict[str, Any]]]:
    """Sums by kind and currency over [start, end): remedies authorised (proposed within authority or
    approved) in the period, and remedies paid in the period. `kind` and `currency` filter the
    remedies; `department`, `org_unit`, `category` (and their `_id`) filter the cases."""
    remedies = Remedy.objects.filter(amount__isnull=False)
    for name, value in filters.items():
        if name in {"kind", "currency"}:
            remedies = remedies.filter(**{name: value})
        elif name in PERIOD_FILTERS:
            remedies = remedies.filter(**{f"complaint__{name}": value})
        else:
            raise TypeError(f"unknown filter: {name}")
    # Authorised in the period: approved then, or proposed then within authority; paid ones count
    # where they were authorised too, so that "authorised" is what was granted, "paid" what went out.
    granted = remedies.filter(status__in=AUTHORISED | {RemedyStatus.PAID})
    within = granted.filter(required_steps=[], proposed_at__gte=start, proposed_at__lt=end)
    approved = granted.exclude(required_steps=[]).filter(decided_at__gte=start, decided_at__lt=end)
    return {
        "authorised": _merge(_rows(within), _rows(approved)),
        "paid": _rows(remedies.filter(status=RemedyStatus.PAID, paid_at__gte=start, paid_at__lt=end)),
    }


def _merge(*groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for rows in groups:
        for row in rows:
            key = (row["kind"], row["currency"])
            if key in merged:
                merged[key]["total"] += row["total"]
                merged[key]["count"] += row["count"]
            else:
                merged[key] = dict(row)
    return [merged[k] for k in sorted(merged)]


def _sum(remedies: list[Remedy], statuses: frozenset[str]) -> list[tuple[str, Decimal]]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in remedies:
        if r.status in statuses and r.amount is not None:
            totals[r.currency] += r.amount
    return sorted(totals.items())


def _allowed(complaint: Complaint, actor: Actor, action: str) -> bool:
    from django.core.exceptions import PermissionDenied

    from core.errors import TransitionNotAllowed

    try:
        check_may(complaint, actor, action)
    except (TransitionNotAllowed, PermissionDenied):
        return False
    return True


def panel_for(complaint: Complaint, user: User) -> dict[str, Any]:
    """The case page's remedies panel: the remedies with what this user may do to each, the add form's
    choices, the totals, and the statutory calculator's rules. A fixed number of queries."""
    actor = Actor.staff(user)
    remedies = list(remedies_of(complaint))
    may_decide = _allowed(complaint, actor, "approve_remedy")
    may_pay = _allowed(complaint, actor, "mark_remedy_paid")
    may_cancel = _allowed(complaint, actor, "cancel_remedy")
    pending = [r for r in remedies if r.status == RemedyStatus.PENDING_APPROVAL]
    limits = authority.limits_for(complaint) if may_decide and pending else {}
    rows = []
    for r in remedies:
        decidable = (
            may_decide
            and r.status == RemedyStatus.PENDING_APPROVAL
            and r.proposed_by_id != user.pk
            and all(a.decided_by_id != user.pk for a in r.approvals.all())
            and authority.step_for(user, r, complaint, limits) is not None
        )
        rows.append(
            {
                "remedy": r,
                "open_steps": [Step(s).label for s in authority.open_steps(r)]
                if r.status == RemedyStatus.PENDING_APPROVAL
                else [],
                "may_decide": decidable,
                "may_pay": may_pay and r.status in AUTHORISED,
                "may_cancel": may_cancel and r.status in LIVE,
            }
        )
    return {
        "rows": rows,
        "masked": Principal.of(user).masked_for(complaint),
        "may_add": _allowed(complaint, actor, "add_remedy"),
        "kinds": RemedyKind.choices,
        "currencies": CURRENCIES,
        "authorised": _sum(remedies, AUTHORISED),
        "pending": _sum(remedies, frozenset({RemedyStatus.PENDING_APPROVAL})),
        "paid": _sum(remedies, frozenset({RemedyStatus.PAID})),
        "rules": [(code, f"{rule.law}{rule.article}") for code, rule in statutory.RULES.items()],
        "exceptions": list(statutory.ART_25_EXCEPTIONS.items()),
        "defences": list(statutory.PQL_41_DEFENCES.items()),
        "negotiation": negotiation_panel(complaint, user, remedies),
    }


# --- the negotiation thread -------------------------------------------------------------------------


def offers_of(complaint: Complaint) -> QuerySet[Offer]:
    return (
        Offer.objects.filter(complaint=complaint)
        .select_related("made_by", "accepted_by", "agreement")
        .prefetch_related("remedies")
        .order_by("made_at", "id")
    )


def _money(amount: Decimal | None, currency: str) -> str | None:
    return None if amount is None else f"{amount:,.2f} {currency}"


def describe_offer(
    offer: Offer, complaint: Complaint, *, now: datetime, consumer: bool = False, masked: bool = False
) -> dict[str, Any]:
    """An offer of the thread. The consumer sees neither staff names nor why staff withdrew an offer
    (it may be internal); an analyst sees free text masked."""
    status = negotiation.live_status(offer, complaint, now)
    hide = masked and not consumer
    data: dict[str, Any] = {
        "id": offer.pk,
        "side": offer.side,
        "side_label": str(OfferSide(offer.side).label),
        "text": "***" if hide else offer.text,
        "amount": None if offer.amount is None else format(offer.amount, "f"),
        "currency": offer.currency,
        "amount_display": _money(offer.amount, offer.currency),
        "remedies": [
            {
                "id": r.pk,
                "kind": r.kind,
                "kind_label": str(r.get_kind_display()),
                "amount": _money(r.amount, r.currency),
            }
            for r in offer.remedies.all()
        ],
        "status": status,
        "status_label": str(OfferStatus(status).label),
        "made_at": offer.made_at.isoformat(),
        "expires_at": offer.expires_at.isoformat() if offer.expires_at else None,
        "decided_at": offer.decided_at.isoformat() if offer.decided_at else None,
        "reply_to": offer.reply_to_id,
        "agreement_no": offer.agreement_no or None,
        "agreement": None,
    }
    if offer.side == OfferSide.CONSUMER or offer.status == OfferStatus.REFUSED or not consumer:
        data["reason"] = "***" if hide and offer.reason else offer.reason
    else:
        data["reason"] = ""
    if offer.agreement_id is not None and offer.agreement is not None and offer.agreement.deleted_at is None:
        item = offer.agreement
        data["agreement"] = {
            "evidence_id": item.pk,
            "filename": item.filename,
            "sha256": item.sha256,
            "size": item.size,
        }
    if not consumer:
        data["made_by"] = offer.made_by.get_username() if offer.made_by_id else None  # type: ignore[union-attr]
        data["accepted_via"] = offer.accepted_via or None
        data["accepted_by"] = offer.accepted_by.get_username() if offer.accepted_by_id else None  # type: ignore[union-attr]
        data["acceptance_note"] = "***" if hide and offer.acceptance_note else offer.acceptance_note
    return data


def thread_for(complaint: Complaint, *, consumer: bool = False, masked: bool = False) -> list[dict[str, Any]]:
    if complaint.proposed_at is None:
        return []  # a thread starts with an organisation offer, which stamps proposed_at: no query
    now = timezone.now()
    return [describe_offer(o, complaint, now=now, consumer=consumer, masked=masked) for o in offers_of(complaint)]


def negotiation_for_consumer(complaint: Complaint) -> dict[str, Any]:
    """What the status page and the consumer API add to the consumer's view: the thread, the offer
    they may answer now (accept only while it is valid), and the agreement to download."""
    offers = thread_for(complaint, consumer=True)
    current = negotiation.open_offer(complaint)
    answerable = next((o for o in offers if current is not None and o["id"] == current.pk), None)
    agreements = [o for o in offers if o["agreement"] is not None]
    pending = any(o["status"] == OfferStatus.ACCEPTED and o["agreement"] is None for o in offers)
    return {
        "offers": offers,
        "open_offer": answerable,
        "may_accept": answerable is not None and answerable["status"] == OfferStatus.OPEN,
        "may_answer": answerable is not None,
        "agreement": agreements[-1]["agreement"] | {"agreement_no": agreements[-1]["agreement_no"]}
        if agreements
        else None,
        "agreement_pending": pending,
    }


def negotiation_panel(complaint: Complaint, user: User, remedies: list[Remedy]) -> dict[str, Any]:
    """The case page's part of the thread: the offers, and the forms this user may use."""
    actor = Actor.staff(user)
    masked = Principal.of(user).masked_for(complaint)
    offers = with_datetimes(thread_for(complaint, masked=masked))
    current = negotiation.open_offer(complaint)
    missing = [o for o in offers if o["status"] == OfferStatus.ACCEPTED and o["agreement"] is None]
    return {
        "offers": offers,
        "current_offer": current.pk if current is not None else None,
        "may_offer": _allowed(complaint, actor, "propose_resolution"),
        "may_withdraw": current is not None and _allowed(complaint, actor, "withdraw_offer"),
        "may_settle": bool(missing) and _allowed(complaint, actor, "settlement_agreement"),
        "offerable": [r for r in remedies if r.status in AUTHORISED | {RemedyStatus.PAID}],
        "valid_days": negotiation.default_valid_days(),
        "open_counter": next(
            (o for o in reversed(offers) if o["side"] == OfferSide.CONSUMER and o["status"] == OfferStatus.OPEN), None
        ),
    }


def with_datetimes(offers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The thread for a template: the ISO times as datetimes (the date filter formats them)."""
    for offer in offers:
        for key in ("made_at", "expires_at", "decided_at"):
            offer[f"{key}_dt"] = datetime.fromisoformat(offer[key]) if offer[key] else None
    return offers


def consumer_agreement_item(complaint: Complaint) -> Any:
    """The evidence item of the case's latest settlement agreement, if it may be shown to the consumer."""
    offer = (
        Offer.objects.filter(complaint=complaint, agreement__isnull=False)
        .select_related("agreement__complaint")
        .order_by("-decided_at", "-id")
        .first()
    )
    item = offer.agreement if offer is not None else None
    if item is None or not item.shown_to_consumer or item.deleted_at is not None:
        return None
    return item
