"""Templates per event, channel and language: seeded for every event, placeholders checked by name
when an admin saves."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from notifications.choices import STAFF_EVENTS, Event
from notifications.models import MessageTemplate
from notifications.placeholders import check_text


def test_every_event_has_seeded_templates_in_both_languages(db):
    for event in Event.values:
        for language in ("zh-hans", "en"):
            assert MessageTemplate.objects.filter(event=event, channel="email", language=language).exists(), event
            if event not in STAFF_EVENTS:
                assert MessageTemplate.objects.filter(event=event, channel="sms", language=language).exists(), event
    for template in MessageTemplate.objects.all():
        template.full_clean()  # the seeded texts pass their own check


def test_an_unknown_placeholder_is_refused_by_name(db):
    template = MessageTemplate(
        event="resolved",
        channel="email",
        language="en",
        subject="Done {tracking_no}",
        body="Hi {nmae}, see {link} {code}",
    )
    with pytest.raises(ValidationError) as raised:
        template.full_clean()
    message = str(raised.value.message_dict["body"])
    assert "{code}" in message and "{nmae}" in message and "{name}" in message


def test_an_e_mail_needs_a_subject_and_braces_must_pair(db):
    template = MessageTemplate(event="resolved", channel="email", language="en", subject="", body="Hi {name")
    with pytest.raises(ValidationError) as raised:
        template.full_clean()
    errors = raised.value.message_dict
    assert "subject" in errors and "花括号不成对" in str(errors["body"])


def test_a_placeholder_registered_for_an_event_is_allowed_there_only(db):
    from notifications import registry

    def extra(delivery):  # type: ignore[no-untyped-def]
        return {"callback_at": "明天上午"}

    registry.register_context("callback_followup", extra, placeholders=("callback_at",))
    try:
        assert check_text("body", "回访时间：{callback_at}", "callback_followup")
        with pytest.raises(Exception, match="callback_at"):
            check_text("body", "回访时间：{callback_at}", "resolved")
    finally:
        registry.unregister("callback_followup", extra)


def test_an_sms_body_is_limited(db):
    template = MessageTemplate(event="resolved", channel="sms", language="en", body="x" * 501)
    with pytest.raises(ValidationError) as raised:
        template.full_clean()
    assert "body" in raised.value.message_dict


def test_the_admin_refuses_an_unknown_placeholder_and_keeps_the_template(cast):
    template = MessageTemplate.objects.get(event="resolved", channel="email", language="zh-hans")
    client = Client()
    client.force_login(cast.admin)
    cast.admin.is_superuser = True
    cast.admin.save(update_fields=["is_superuser"])
    url = f"/admin/notifications/messagetemplate/{template.pk}/change/"
    response = client.post(
        url,
        {
            "event": "resolved",
            "channel": "email",
            "language": "zh-hans",
            "subject": "已解决",
            "body": "查询码 {access_code}",
            "active": "on",
        },
    )
    assert response.status_code == 200 and "{access_code}" in response.content.decode()
    template.refresh_from_db()
    assert "{access_code}" not in template.body


def test_the_admin_pages_of_the_app_open_for_an_administrator(cast, body):
    from notifications.models import Delivery, WebhookDelivery, WebhookSubscription
    from notifications.webhooks import encrypt_secret

    from .conftest import accepted

    complaint = accepted(cast, body)
    delivery = Delivery.objects.create(
        complaint=complaint, event="assigned", channel="email", recipient="a@example.com"
    )
    subscription = WebhookSubscription.objects.create(
        name="ERP", url="https://erp.example.com", secret_encrypted=encrypt_secret("x" * 30), events=["accept"]
    )
    WebhookDelivery.objects.create(subscription=subscription, event="accept", complaint=complaint, payload="{}")
    cast.admin.is_superuser = True
    cast.admin.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(cast.admin)
    for path in (
        "messagetemplate/",
        "messagetemplate/add/",
        "delivery/",
        f"delivery/{delivery.pk}/change/",
        "optout/",
        "optout/add/",
        "webhooksubscription/",
        "webhooksubscription/add/",
        f"webhooksubscription/{subscription.pk}/change/",
        "webhookdelivery/?status__exact=queued",
    ):
        response = client.get(f"/admin/notifications/{path}")
        assert response.status_code == 200, path
    html = client.get(f"/admin/notifications/webhooksubscription/{subscription.pk}/change/").content.decode()
    assert subscription.secret_encrypted not in html
    assert f"/admin/notifications/webhookdelivery/?subscription__id__exact={subscription.pk}" in html
