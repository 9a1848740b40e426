"""Reads of casework: the case page's panel, the API's descriptions, and the templates best suited to
a case."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from complaints.actions import check_may
from complaints.choices import Status
from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.permissions import Principal
from core.errors import TransitionNotAllowed

from . import checklist, placeholders
from .choices import ContactChannel, Direction, Party, Purpose, ThirdPartyKind
from .models import ClosingChecklist, Contact, Reply, ReplyTemplate


def allowed(complaint: Complaint, actor: Actor, action: str) -> bool:
    try:
        check_may(complaint, actor, action)
    except (TransitionNotAllowed, PermissionDenied):
        return False
    return True


def contacts_of(complaint: Complaint) -> QuerySet[Contact]:
    return (
        Contact.objects.filter(complaint=complaint)
        .select_related("recorded_by", "evidence")
        .order_by("occurred_at", "id")
    )


def replies_of(complaint: Complaint) -> QuerySet[Reply]:
    return Reply.objects.filter(complaint=complaint).select_related("sent_by", "template").order_by("sent_at", "id")


def templates_for(complaint: Complaint, purpose: str | None = None) -> list[ReplyTemplate]:
    """Active templates (of a purpose, or all) that fit the case: its category's or any category's,
    best first — the case's language before the other, its own category before the general ones."""
    categories = [pk for pk in (complaint.category_id, complaint.subcategory_id) if pk]
    queryset = (
        ReplyTemplate.objects.select_related("category")
        .filter(active=True)
        .filter(Q(category__isnull=True) | Q(category_id__in=categories))
    )
    rows = list(queryset.filter(purpose=purpose) if purpose else queryset)

    def rank(t: ReplyTemplate) -> tuple[int, int, int, str]:
        return (
            t.language != complaint.language,
            t.category_id is None,
            t.category_id != complaint.subcategory_id,
            t.name,
        )

    return sorted(rows, key=rank)


def render_template(template: ReplyTemplate, complaint: Complaint) -> str:
    return placeholders.render(template.body, placeholders.values_for(complaint, template.language))


def describe_contact(contact: Contact, *, masked: bool = False) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "direction": contact.direction,
        "direction_label": str(contact.get_direction_display()),
        "party": contact.party,
        "third_party_kind": contact.third_party_kind,
        "third_party_name": "***" if masked and contact.third_party_name else contact.third_party_name,
        "channel": contact.channel,
        "channel_label": str(contact.get_channel_display()),
        "occurred_at": contact.occurred_at.isoformat(),
        "duration_seconds": contact.duration_seconds,
        "summary": "***" if masked else contact.summary,
        "evidence_id": contact.evidence_id,
        "recorded_by": contact.recorded_by.get_username() if contact.recorded_by_id else contact.recorded_via,
        "created_at": contact.created_at.isoformat(),
    }


def describe_reply(reply: Reply, *, masked: bool = False) -> dict[str, Any]:
    return {
        "id": reply.pk,
        "text": "***" if masked else reply.text,
        "template_id": reply.template_id,
        "sent_by": reply.sent_by.get_username() if reply.sent_by_id else None,
        "sent_at": reply.sent_at.isoformat(),
        "delivery": reply.delivery,
        "delivery_label": str(reply.get_delivery_display()),
        "delivery_note": "" if masked else reply.delivery_note,
        "delivered_at": reply.delivered_at.isoformat() if reply.delivered_at else None,
    }


def describe_checklist(complaint: Complaint) -> dict[str, Any]:
    """The live checklist of a resolved case, or what the last closing recorded."""
    data: dict[str, Any] = {"status": complaint.status, "items": [], "recorded": None}
    if complaint.status == Status.RESOLVED:
        result = checklist.evaluate(complaint, evidence_complete=None, now=timezone.now())
        data["items"] = [{"item": i.code, "label": i.label, "met": i.met, "detail": i.detail} for i in result.items]
    last = ClosingChecklist.objects.filter(complaint=complaint).order_by("-closed_at", "-id").first()
    if last is not None:
        data["recorded"] = {
            "closed_at": last.closed_at.isoformat(),
            "reply_id": last.reply_id,
            "remedies_basis": last.remedies_basis,
            "evidence_complete": last.evidence_complete,
            "survey_due_at": last.survey_due_at.isoformat() if last.survey_due_at else None,
            "survey_skipped": last.survey_skipped,
        }
    return data


def panel_for(complaint: Complaint, user: User, remedies: list[Any] | None = None) -> dict[str, Any]:
    """The case page's casework panel. A few fixed queries: contacts; replies (only once there can be
    any); templates (only for someone who may write); the checklist (only for a resolved or closed case)."""
    actor = Actor.staff(user)
    may_contact = allowed(complaint, actor, "add_contact")
    may_reply = allowed(complaint, actor, "send_reply")
    replies = list(replies_of(complaint)) if complaint.reply_text or complaint.reopen_count else []
    templates: list[ReplyTemplate] = []
    if may_contact or may_reply:
        templates = templates_for(complaint)
    items: list[checklist.Item] = []
    recorded = None
    if complaint.status == Status.RESOLVED:
        items = checklist.evaluate(complaint, evidence_complete=None, now=timezone.now(), remedies=remedies).items
    elif complaint.status in (Status.CLOSED, Status.ARCHIVED):
        recorded = ClosingChecklist.objects.filter(complaint=complaint).order_by("-closed_at", "-id").first()
    return {
        "contacts": list(contacts_of(complaint)),
        "replies": replies,
        "masked": Principal.of(user).masked_for(complaint),
        "may_contact": may_contact,
        "may_reply": may_reply,
        "reply_templates": [t for t in templates if t.purpose == Purpose.REPLY],
        "contact_templates": [t for t in templates if t.purpose == Purpose.CONTACT],
        "directions": Direction.choices,
        "parties": Party.choices,
        "kinds": ThirdPartyKind.choices,
        "channels": ContactChannel.choices,
        "checklist": items,
        "recorded": recorded,
        "now": timezone.localtime(),
    }
