"""Reads shared by the case panel and the API."""

from typing import Any

from complaints.permissions import Principal

from .addresses import mask
from .choices import Event
from .models import Delivery, WebhookDelivery

PANEL_ROWS = 50


def deliveries_of(complaint: Any, limit: int = PANEL_ROWS) -> list[Delivery]:
    return list(Delivery.objects.filter(complaint=complaint).order_by("-created_at", "-id")[:limit])


def describe(delivery: Delivery, *, masked: bool) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "event": delivery.event,
        "channel": delivery.channel,
        "recipient": mask(delivery.channel, delivery.recipient)
        if masked and delivery.recipient
        else delivery.recipient,
        "to_staff": delivery.recipient_user_id is not None,
        "language": delivery.language,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at.isoformat() if delivery.next_attempt_at else None,
        "last_error": shown_error(delivery, masked=masked),
        "created_at": delivery.created_at.isoformat(),
        "sent_at": delivery.sent_at.isoformat() if delivery.sent_at else None,
    }


def shown_error(delivery: Delivery, *, masked: bool) -> str:
    """The error, with the address masked for analysts (mail servers quote the recipient)."""
    if masked and delivery.recipient:
        return delivery.last_error.replace(delivery.recipient, mask(delivery.channel, delivery.recipient))
    return delivery.last_error


def describe_webhook(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "event_id": str(delivery.event_id),
        "event": delivery.event,
        "status": delivery.status,
        "status_code": delivery.status_code,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at.isoformat() if delivery.next_attempt_at else None,
        "response_excerpt": delivery.response_excerpt,
        "last_error": delivery.last_error,
        "payload": delivery.payload,
        "created_at": delivery.created_at.isoformat(),
        "sent_at": delivery.sent_at.isoformat() if delivery.sent_at else None,
    }


def may_retry(user: Any, complaint: Any) -> bool:
    principal = Principal.of(user)
    return principal.is_writer and principal.in_scope(complaint)


def panel_for(complaint: Any, user: Any) -> dict[str, Any]:
    """One query: the case's latest messages."""
    principal = Principal.of(user)
    masked = principal.masked_for(complaint)
    rows = deliveries_of(complaint)
    labels = dict(Event.choices)
    for row in rows:
        row.event_label = labels.get(row.event, row.event)  # type: ignore[attr-defined]
        row.shown_recipient = mask(row.channel, row.recipient) if masked and row.recipient else row.recipient  # type: ignore[attr-defined]
        row.shown_error = shown_error(row, masked=masked)  # type: ignore[attr-defined]
    return {
        "deliveries": rows,
        "may_retry": may_retry(user, complaint),
        "failed": sum(1 for row in rows if row.status == "failed"),
    }
