"""Notifications over the API (staff: token or session): a case's messages and "retry now"; the
delivery log of a webhook subscription (admins)."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router

from accounts.choices import Role
from complaints.api import StaffSession, TokenAuth, _user
from complaints.permissions import Principal, get_complaint_for_user
from core.errors import ValidationError
from core.http import json_response

from . import actions
from .choices import DeliveryStatus
from .models import Delivery, WebhookDelivery, WebhookSubscription
from .selectors import deliveries_of, describe, describe_webhook

router = Router(tags=["notifications"], auth=[TokenAuth(), StaffSession()])


@router.get("/complaints/{tracking_no}/notifications", summary="The messages sent about a case")
def list_deliveries(request: HttpRequest, tracking_no: str) -> list[dict[str, Any]]:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    masked = Principal.of(user).masked_for(complaint)
    deliveries = deliveries_of(complaint, limit=500)
    if not masked and any(shows_consumer_address(d) for d in deliveries):
        _record_view(complaint, user)
    return [describe(d, masked=masked) for d in deliveries]


def shows_consumer_address(delivery: Delivery) -> bool:
    return bool(delivery.recipient) and delivery.recipient_user_id is None


def _record_view(complaint: Any, user: Any) -> None:
    """The consumer's addresses seen unmasked: a view of personal data, recorded like the case API's."""
    from complaints.ledgering import Actor
    from privacy.audit import record_personal_access

    record_personal_access([complaint.pk], actor=Actor.staff(user), how="case_api")


@router.post(
    "/complaints/{tracking_no}/notifications/{delivery_id}/retry",
    summary="Send a failed message again now",
)
def retry_delivery(request: HttpRequest, tracking_no: str, delivery_id: int) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    delivery = Delivery.objects.filter(pk=delivery_id, complaint=complaint).first()
    if delivery is None:
        raise Http404("delivery not found")
    actions.retry(delivery, user=user)
    delivery.refresh_from_db()
    masked = Principal.of(user).masked_for(complaint)
    if not masked and shows_consumer_address(delivery):
        _record_view(complaint, user)
    return json_response(describe(delivery, masked=masked), status=202 if delivery.status == "queued" else 200)


@router.get(
    "/notifications/webhooks/{subscription_id}/deliveries", summary="A webhook subscription's delivery log (admins)"
)
def webhook_deliveries(
    request: HttpRequest, subscription_id: int, status: str = "", limit: int = 100
) -> list[dict[str, Any]]:
    user = request.auth  # type: ignore[attr-defined]
    if not (Principal.of(user).has(Role.ADMIN) or user.is_superuser):
        raise PermissionDenied(_("只有管理员可以查看 Webhook 发送记录。"))
    subscription = WebhookSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        raise Http404("subscription not found")
    rows = WebhookDelivery.objects.filter(subscription=subscription).order_by("-created_at", "-id")
    if status:
        if status not in DeliveryStatus.values:
            raise ValidationError(
                "status", _("取值无效，可选：%(expected)s。") % {"expected": ", ".join(DeliveryStatus.values)}
            )
        rows = rows.filter(status=status)
    return [describe_webhook(d) for d in rows[: max(1, min(limit, 500))]]
