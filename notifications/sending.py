"""One attempt at one delivery: claim it, render it in its language, hand it to its channel, and
record the outcome. A failure is scheduled again on COMPLAINTDESK_NOTIFY_RETRY_MINUTES and becomes
`failed` after the last step; nothing here touches the case."""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from core import mailref

from . import placeholders, registry
from .choices import STAFF_EVENTS, Channel, DeliveryStatus
from .models import Delivery, MessageTemplate

log = logging.getLogger("complaintdesk.notifications")

# How long a claimed attempt keeps others off (a worker that died mid-send is retried after it).
LEASE = timedelta(minutes=10)


class NotSendable(Exception):
    """Nothing to retry: the message cannot be made (no template) or must not go out (opted out)."""


def retry_delays() -> list[timedelta]:
    return [timedelta(minutes=m) for m in settings.COMPLAINTDESK_NOTIFY_RETRY_MINUTES]


def next_after_failure(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed attempts; None when the schedule is spent."""
    delays = retry_delays()
    return now + delays[attempts - 1] if attempts <= len(delays) else None


def template_for(event: str, channel: str, language: str) -> MessageTemplate | None:
    found = {
        t.language: t
        for t in MessageTemplate.objects.filter(
            event=event, channel=channel, active=True, language__in=[language, "zh-hans"]
        )
    }
    return found.get(language) or found.get("zh-hans")


def values_for(delivery: Delivery) -> dict[str, str]:
    """The placeholders' values for this delivery, in its language (the caller has overridden it)."""
    from casework.placeholders import values_for as casework_values
    from resolutions.mail import status_page_url

    complaint = delivery.complaint
    values = casework_values(complaint, delivery.language)
    department = complaint.department
    values.update(
        {
            "status": str(complaint.get_status_display()),
            "department": ((department.name_en or department.name) if delivery.language == "en" else department.name)
            if department
            else _("（未分派）"),
            "category": (
                (complaint.category.name_en or complaint.category.name)
                if delivery.language == "en"
                else complaint.category.name
            )
            if complaint.category_id
            else "—",
            "priority": str(complaint.get_priority_display()) if getattr(complaint, "priority", "") else "—",
            "link": status_page_url(),
            "unsubscribe": "",
        }
    )
    if delivery.event in STAFF_EVENTS or delivery.recipient_user_id:
        values["link"] = settings.COMPLAINTDESK_PUBLIC_URL + reverse("complaints:case", args=[complaint.tracking_no])
    elif delivery.channel == Channel.EMAIL:
        from .tokens import unsubscribe_url

        values["unsubscribe"] = unsubscribe_url(delivery)
    values.update({k: str(v) for k, v in (delivery.context or {}).items()})
    values.update({k: str(v) for k, v in registry.context_for(delivery).items()})
    return values


def render(delivery: Delivery) -> tuple[str, str, dict[str, str]]:
    """Subject, body and the values used (the e-mail's unsubscribe link among them)."""
    template = template_for(delivery.event, delivery.channel, delivery.language)
    if template is None:
        raise NotSendable(_("没有可用的“%(event)s”模板。") % {"event": delivery.event})
    with translation.override(delivery.language):
        values = values_for(delivery)
        subject = placeholders.render(template.subject, values).replace("\n", " ").strip()
        body = placeholders.render(template.body, values)
        if values.get("unsubscribe") and "{unsubscribe}" not in template.body:
            body += "\n\n-- \n" + _("不想再收到此类邮件？点击退订：%(link)s") % {"link": values["unsubscribe"]}
    return subject, body, values


def send_email(delivery: Delivery, subject: str, body: str, values: dict[str, str]) -> None:
    tracking_no = delivery.complaint.tracking_no
    # Marked automatic (RFC 3834) so auto-responders stay quiet; the tracking number in a header and
    # in the Message-ID, which mail programs copy into a reply's In-Reply-To: a reply finds its case
    # (the same headers as intake/mail.py).
    headers = {
        "Auto-Submitted": "auto-generated",
        "X-ComplaintDesk-Tracking": tracking_no,
        "Message-ID": mailref.message_id(tracking_no, delivery.recipient),
    }
    if values.get("unsubscribe"):
        headers["List-Unsubscribe"] = f"<{values['unsubscribe']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [delivery.recipient], headers=headers).send(
        fail_silently=False
    )


def send_sms(delivery: Delivery, body: str) -> None:
    from .sms import backend

    backend().send(delivery.recipient, body)


def _claim(model: Any, pk: int, now: datetime, reserved: datetime | None = None) -> bool:
    """Take the next attempt of a queued row that is due (or, from the retry job's task, still holds
    the job's reservation); False when another worker has it or it is not due. An UPDATE, not a lock
    held over the network call (SQLite would block every writer)."""
    if reserved is not None:
        due = Q(next_attempt_at=reserved)
    else:
        due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    claimed = model.objects.filter(due, pk=pk, status=DeliveryStatus.QUEUED).update(
        attempts=F("attempts") + 1, next_attempt_at=now + LEASE
    )
    return claimed == 1


def attempt(delivery_id: int, now: datetime | None = None, *, reserved: datetime | None = None) -> str:
    """Try one delivery once; its status afterwards ('' when it was not due or not queued)."""
    from .service import why_not

    now = now or timezone.now()
    if not _claim(Delivery, delivery_id, now, reserved):
        return ""
    delivery = Delivery.objects.select_related("complaint", "complaint__department", "complaint__category").get(
        pk=delivery_id
    )
    try:
        if delivery.recipient_user_id is None:
            # Opted out (or "no contact" chosen) since the message was queued.
            reason = why_not(delivery.complaint, delivery.channel, delivery.recipient, delivery.purpose)
            if reason:
                raise NotSendable(reason)
        if not delivery.recipient:
            raise NotSendable(_("地址已删除。"))
        subject, body, values = render(delivery)
        if delivery.channel == Channel.EMAIL:
            send_email(delivery, subject, body, values)
        else:
            send_sms(delivery, body)
    except NotSendable as exc:
        Delivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.SKIPPED, next_attempt_at=None, last_error=str(exc)[:500]
        )
        return DeliveryStatus.SKIPPED
    except Exception as exc:  # the mail server, the gateway: whatever fails is retried, never raised
        # The exception's type only: an adapter's or mail server's message may quote the address or
        # the rendered text (with a survey link); the full error is on the delivery row for staff.
        log.warning(
            "notification %s (%s, %s) failed: %s", delivery_id, delivery.event, delivery.channel, type(exc).__name__
        )
        later = next_after_failure(delivery.attempts, timezone.now())
        status = DeliveryStatus.QUEUED if later else DeliveryStatus.FAILED
        Delivery.objects.filter(pk=delivery_id).update(
            status=status, next_attempt_at=later, last_error=(f"{type(exc).__name__}: {exc}")[:500]
        )
        return status
    Delivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), next_attempt_at=None, last_error=""
    )
    return DeliveryStatus.SENT


def attempt_webhook(delivery_id: int, now: datetime | None = None, *, reserved: datetime | None = None) -> str:
    from .models import WebhookDelivery
    from .webhooks import post

    now = now or timezone.now()
    if not _claim(WebhookDelivery, delivery_id, now, reserved):
        return ""
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    if not delivery.subscription.active:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.SKIPPED, next_attempt_at=None, last_error=_("订阅已停用。")
        )
        return DeliveryStatus.SKIPPED
    code, excerpt, error = post(delivery)
    if error is None and code is not None and 200 <= code < 300:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.SENT,
            status_code=code,
            response_excerpt=excerpt,
            last_error="",
            sent_at=timezone.now(),
            next_attempt_at=None,
        )
        return DeliveryStatus.SENT
    later = next_after_failure(delivery.attempts, timezone.now())
    status = DeliveryStatus.QUEUED if later else DeliveryStatus.FAILED
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=status,
        status_code=code,
        response_excerpt=excerpt,
        last_error=(error or f"HTTP {code}")[:500],
        next_attempt_at=later,
    )
    return status


def format_date(value: datetime | None) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else "—"
