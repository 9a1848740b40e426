"""The external proceeding behind complaints.actions.route_external / record_external_outcome: the
checks on what is routed out, the row opened and closed under the case's lock, and the regulator's
due date as the case's resolution deadline (complaints.sla reads Complaint.regulator_due_at)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from complaints.choices import ExternalRoute
from complaints.ledgering import Actor
from complaints.models import Complaint
from core.errors import ValidationError

from .choices import Decision
from .models import ExternalProceeding

BODY_MAX = 200
REFERENCE_MAX = 100


def check_route(route: str, body: str | None, reference: str) -> tuple[str, str, str]:
    """The route, body and reference, cleaned; ValidationError naming the field otherwise."""
    if route not in ExternalRoute.values:
        raise ValidationError("route", _("请选择外部途径（调解、仲裁、诉讼或市场监管/12315）。"))
    body_name = (body or "").strip()
    reference = (reference or "").strip()
    if body is not None and len(body_name) < 2:
        raise ValidationError(
            "body", _("请填写受理机构名称（如某市消费者协会、某仲裁委员会、某区人民法院、某区市场监管局）。")
        )
    if len(body_name) > BODY_MAX:
        raise ValidationError("body", _("机构名称过长（最多 %(n)d 字）。") % {"n": BODY_MAX})
    if len(reference) > REFERENCE_MAX:
        raise ValidationError("reference", _("案号过长（最多 %(n)d 字）。") % {"n": REFERENCE_MAX})
    return route, body_name, reference


def regulator_due(complaint: Complaint, route: str, due_at: datetime | None) -> datetime | None:
    """A regulator referral carries the regulator's own due date: the one given, else the one the case
    already has (a 12315 referral received with its date). Every caller must have one."""
    if route != ExternalRoute.REGULATOR:
        return due_at
    due = due_at or complaint.regulator_due_at
    if due is None:
        raise ValidationError("due_at", _("转市场监管/12315 须填写监管机关给出的办理期限。"))
    return due


def open_proceeding(
    complaint: Complaint,
    *,
    actor: Actor,
    route: str,
    body: str,
    reference: str,
    due_at: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """Open the proceeding (the case row is locked by the caller); returns the event's clear facts."""
    if route == ExternalRoute.REGULATOR and due_at is not None:
        # The regulator's date is the case's resolution deadline from now on (complaints.sla).
        complaint.regulator_due_at = due_at
    proceeding = ExternalProceeding.objects.create(
        complaint=complaint,
        route=route,
        body=body,
        reference=reference,
        due_at=due_at,
        opened_at=now,
        opened_by=actor.user if actor.kind == "staff" else None,
    )
    return {
        "proceeding_id": proceeding.pk,
        "route": route,
        "body": body,
        "reference": reference,
        "due_at": due_at.isoformat() if due_at else None,
    }


def check_outcome(decision: str, amount: Any) -> tuple[str, Decimal | None]:
    from resolutions.money import parse_amount

    if decision and decision not in Decision.values:
        raise ValidationError("decision", _("请选择外部程序的结论。"))
    return decision, parse_amount(amount, "amount", required=False)


def close_proceeding(
    complaint: Complaint,
    *,
    actor: Actor,
    resolved: bool,
    note: str,
    decision: str,
    amount: Decimal | None,
    now: datetime,
) -> dict[str, Any]:
    """Close the case's open proceeding with its outcome; returns the event's clear facts. A case routed
    out before this app existed has none: the outcome is then on the case only."""
    proceeding = ExternalProceeding.objects.filter(complaint=complaint, closed_at__isnull=True).order_by("-pk").first()
    facts: dict[str, Any] = {
        "resolved": resolved,
        "decision": decision,
        "amount": None if amount is None else format(amount, "f"),
    }
    if proceeding is not None:
        proceeding.outcome_text = note
        proceeding.decision = decision
        proceeding.amount = amount
        proceeding.resolved = resolved
        proceeding.closed_at = now
        proceeding.closed_by = actor.user if actor.kind == "staff" else None
        proceeding.save(update_fields=["outcome_text", "decision", "amount", "resolved", "closed_at", "closed_by"])
        facts["proceeding_id"] = proceeding.pk
    return facts


def apply_regulator_deadline(complaint: Complaint, now: datetime) -> None:
    """Back from the regulator unresolved: the regulator's date, not the paused internal clock, is
    the deadline (it does not move with the time spent outside)."""
    due = complaint.regulator_due_at
    if due is None or complaint.resolution_due_at is None:
        return
    complaint.resolution_due_at = due
    if complaint.resolution_warn_at is None or complaint.resolution_warn_at > due:
        complaint.resolution_warn_at = due
    if due > now:
        complaint.resolution_breached_at = None
