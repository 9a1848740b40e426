"""Reads the case page and the API share: the proceedings with their documents, the crisis
checklists, and what the user may do on the panel."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from complaints.actions import check_may
from complaints.choices import ExternalRoute
from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.permissions import Principal
from core.errors import TransitionNotAllowed
from evidence.choices import EvidenceKind

from .choices import Decision, DocumentDirection
from .models import CrisisChecklist, ExternalProceeding

PANEL_ACTIONS = (
    "route_external",
    "record_external_outcome",
    "add_external_document",
    "export_dossier",
    "verify_crisis_facts",
    "draft_crisis_statement",
    "approve_crisis_statement",
    "log_media_contact",
    "confirm_media_contacts",
)


def proceedings_of(complaint: Complaint) -> list[ExternalProceeding]:
    return list(
        ExternalProceeding.objects.filter(complaint=complaint)
        .select_related("opened_by", "closed_by")
        .prefetch_related("documents__evidence", "documents__added_by")
        .order_by("opened_at", "id")
    )


def checklists_of(complaint: Complaint) -> list[CrisisChecklist]:
    return list(
        CrisisChecklist.objects.filter(complaint=complaint)
        .select_related("facts_verified_by", "statement_drafted_by", "statement_approved_by", "media_confirmed_by")
        .prefetch_related("media_contacts__logged_by")
        .order_by("opened_at", "id")
    )


def allowed(complaint: Complaint, user: Any) -> dict[str, bool]:
    actor = Actor.staff(user)
    result = {}
    for action in PANEL_ACTIONS:
        try:
            check_may(complaint, actor, action)
            result[action] = True
        except (TransitionNotAllowed, PermissionDenied):
            result[action] = False
    return result


def is_overdue(proceeding: ExternalProceeding, now: Any = None) -> bool:
    return proceeding.is_open and proceeding.due_at is not None and proceeding.due_at < (now or timezone.now())


def describe_proceeding(p: ExternalProceeding, *, masked: bool = False, now: Any = None) -> dict[str, Any]:
    return {
        "id": p.pk,
        "route": p.route,
        "route_label": str(p.get_route_display()),
        "body": p.body,
        "reference": p.reference,
        "due_at": p.due_at.isoformat() if p.due_at else None,
        "overdue": is_overdue(p, now),
        "opened_at": p.opened_at.isoformat(),
        "opened_by": p.opened_by.get_username() if p.opened_by_id else None,
        "open": p.is_open,
        "decision": p.decision or None,
        "amount": None if p.amount is None else format(p.amount, "f"),
        "resolved": p.resolved,
        "outcome_text": ("***" if masked and p.outcome_text else p.outcome_text) or None,
        "closed_at": p.closed_at.isoformat() if p.closed_at else None,
        "documents": [
            {
                "id": d.pk,
                "direction": d.direction,
                "exchanged_on": d.exchanged_on.isoformat(),
                "description": "***" if masked else d.description,
                "evidence_id": d.evidence_id,
                "filename": "***" if masked else d.evidence.filename,
                "sha256": d.evidence.sha256,
            }
            for d in p.documents.all()
        ],
    }


def describe_checklist(cl: CrisisChecklist, *, masked: bool = False) -> dict[str, Any]:
    def who(user: Any) -> str | None:
        return user.get_username() if user is not None else None

    def iso(moment: Any) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": cl.pk,
        "opened_at": iso(cl.opened_at),
        "flags": cl.flags,
        "complete": cl.completed_at is not None,
        "completed_at": iso(cl.completed_at),
        "missing": cl.missing,
        "facts_verified_by": who(cl.facts_verified_by),
        "facts_verified_at": iso(cl.facts_verified_at),
        "facts_note": "***" if masked and cl.facts_note else cl.facts_note,
        "statement_text": cl.statement_text,
        "statement_drafted_by": who(cl.statement_drafted_by),
        "statement_approved_by": who(cl.statement_approved_by),
        "statement_approved_at": iso(cl.statement_approved_at),
        "media_confirmed_by": who(cl.media_confirmed_by),
        "media_confirmed_at": iso(cl.media_confirmed_at),
        "media_contacts": [
            {
                "id": m.pk,
                "outlet": m.outlet,
                "person": "***" if masked and m.person else m.person,
                "contacted_at": iso(m.contacted_at),
                "summary": "***" if masked else m.summary,
                "logged_by": who(m.logged_by),
            }
            for m in cl.media_contacts.all()
        ],
    }


def panel_for(complaint: Complaint, user: Any, recorded: set[str] | None = None) -> dict[str, Any]:
    """The panel's data. `recorded` is the set of actions in the case's ledger when the page has read
    them already (its timeline): a case never routed out nor escalated to a crisis costs no query."""
    now = timezone.now()
    proceedings = proceedings_of(complaint) if recorded is None or "route_external" in recorded else []
    checklists = checklists_of(complaint) if recorded is None or "crisis_escalation" in recorded else []
    current = next((cl for cl in reversed(checklists) if cl.completed_at is None), None)
    complaint._dossier_open_checklist = current  # type: ignore[attr-defined]  # see crisis.open_checklist
    return {
        "proceedings": [{"p": p, "overdue": is_overdue(p, now)} for p in proceedings],
        "open_proceeding": next((p for p in proceedings if p.is_open), None),
        "checklists": checklists,
        "current": current,
        "may": allowed(complaint, user),
        "masked": Principal.of(user).masked_for(complaint),
        "routes": ExternalRoute.choices,
        "decisions": Decision.choices,
        "directions": DocumentDirection.choices,
        "kinds": EvidenceKind.choices,
    }
