"""Outgoing webhooks: signed with HMAC-SHA256 over timestamp and body, verified by a real receiver on
loopback, retried with backoff, logged per subscription; a receiver that is down never blocks the case."""

import hashlib
import hmac
import json

import pytest

from complaints import actions
from complaints.ledgering import Actor
from notifications.admin import WebhookSubscriptionForm
from notifications.models import WebhookDelivery, WebhookSubscription
from notifications.sending import attempt_webhook
from notifications.webhooks import decrypt_secret, encrypt_secret

from .conftest import closed_port, fresh, new_case

SECRET = "s3cret-for-the-erp-receiver-0123456789"


@pytest.fixture(autouse=True)
def loopback_allowed(settings):  # type: ignore[no-untyped-def]
    """The receivers of these tests listen on loopback, which webhooks refuse unless allowed."""
    settings.COMPLAINTDESK_WEBHOOK_ALLOW_PRIVATE = True
    return settings


def subscribe(url: str, events: list[str], active: bool = True) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        name="ERP", url=url, secret_encrypted=encrypt_secret(SECRET), events=events, active=active
    )


def verify(request: dict) -> bool:  # type: ignore[type-arg]
    """What a receiver does (docs/notifications.md)."""
    timestamp = request["headers"]["X-ComplaintDesk-Timestamp"]
    expected = (
        "sha256=" + hmac.new(SECRET.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(expected, request["headers"]["X-ComplaintDesk-Signature"])


def test_a_chosen_event_is_posted_signed_and_without_personal_data(
    cast, body, receiver, django_capture_on_commit_callbacks
):
    erp = receiver([200])
    subscription = subscribe(erp.url, ["accept"])
    complaint = new_case(body)
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept(complaint, actor=Actor.staff(cast.supervisor))
    complaint = fresh(complaint)
    [request] = erp.requests
    assert verify(request)
    payload = json.loads(request["body"])
    assert payload["event"] == "accept" and request["headers"]["X-ComplaintDesk-Event"] == "accept"
    assert payload["complaint"] == {
        "tracking_no": complaint.tracking_no,
        "status": "accepted",
        "category": "product_quality",
        "priority": complaint.priority,
        "department": complaint.department.code,
    }
    text = request["body"].decode()
    for personal in ("张三", "13800138000", "138 0013 8000", "example.com", "漏电"):
        assert personal not in text
    [logged] = WebhookDelivery.objects.filter(subscription=subscription)
    assert (logged.status, logged.status_code, logged.attempts) == ("sent", 200, 1)
    assert str(logged.event_id) == payload["id"] == request["headers"]["X-ComplaintDesk-Delivery"]


def test_a_tampered_body_does_not_verify(cast, body, receiver, django_capture_on_commit_callbacks):
    erp = receiver([200])
    subscribe(erp.url, ["accept"])
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept(new_case(body), actor=Actor.staff(cast.supervisor))
    request = dict(erp.requests[0])
    request["body"] = request["body"].replace(b"accepted", b"resolved")
    assert not verify(request)


def test_events_not_chosen_and_inactive_subscriptions_send_nothing(
    cast, body, receiver, django_capture_on_commit_callbacks
):
    erp = receiver([200])
    subscribe(erp.url, ["resolve"])
    WebhookSubscription.objects.create(
        name="CRM", url=erp.url, secret_encrypted=encrypt_secret(SECRET), events=["accept"], active=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept(new_case(body), actor=Actor.staff(cast.supervisor))
    assert erp.requests == [] and not WebhookDelivery.objects.exists()


def test_a_500_is_retried_with_the_same_event_id_then_succeeds(
    cast, body, receiver, django_capture_on_commit_callbacks
):
    erp = receiver([500, 200])
    subscribe(erp.url, ["accept"])
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept(new_case(body), actor=Actor.staff(cast.supervisor))
    logged = WebhookDelivery.objects.get()
    assert (logged.status, logged.status_code, logged.attempts) == ("queued", 500, 1)
    assert logged.last_error == "HTTP 500" and '"ok": false' in logged.response_excerpt
    assert attempt_webhook(logged.pk) == ""  # not due yet
    assert attempt_webhook(logged.pk, now=logged.next_attempt_at) == "sent"
    logged.refresh_from_db()
    assert (logged.status, logged.status_code, logged.attempts, logged.last_error) == ("sent", 200, 2, "")
    first, second = erp.requests
    assert first["body"] == second["body"] and verify(second)
    assert first["headers"]["X-ComplaintDesk-Delivery"] == second["headers"]["X-ComplaintDesk-Delivery"]


def test_a_receiver_that_is_down_fails_after_the_schedule_and_the_case_goes_on(
    cast, body, django_capture_on_commit_callbacks
):
    subscribe(f"http://127.0.0.1:{closed_port()}/hook", ["accept", "assign"])
    complaint = new_case(body)
    with django_capture_on_commit_callbacks(execute=True):
        updated = actions.accept(complaint, actor=Actor.staff(cast.supervisor))
    assert fresh(complaint).status == "accepted" and fresh(complaint).version == updated.version
    logged = WebhookDelivery.objects.get()
    for _ in range(4):
        assert logged.status == "queued" and "Connection" in logged.last_error
        attempt_webhook(logged.pk, now=logged.next_attempt_at)
        logged.refresh_from_db()
    assert (logged.status, logged.attempts, logged.next_attempt_at) == ("failed", 5, None)
    with django_capture_on_commit_callbacks(execute=True):
        actions.assign(fresh(complaint), actor=Actor.staff(cast.supervisor), owner=cast.agent2)
    assert fresh(complaint).owner == cast.agent2


def test_the_delivery_log_api_is_for_admins(api_as, cast, body, receiver, django_capture_on_commit_callbacks):
    erp = receiver([500])
    subscription = subscribe(erp.url, ["accept"])
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept(new_case(body), actor=Actor.staff(cast.supervisor))
    path = f"/notifications/webhooks/{subscription.pk}/deliveries"
    assert api_as().get(path).status_code == 401
    assert api_as(cast.supervisor).get(path).status_code == 403
    assert api_as(cast.auditor).get(path).status_code == 403
    response = api_as(cast.admin).get(path)
    assert response.status_code == 200
    [row] = response.json()
    assert (row["event"], row["status"], row["status_code"], row["last_error"]) == ("accept", "queued", 500, "HTTP 500")
    assert api_as(cast.admin).get(path, status="sent").json() == []
    bad = api_as(cast.admin).get(path, status="lost")
    assert bad.status_code == 422 and "status" in bad.content.decode()
    assert api_as(cast.admin).get(f"/notifications/webhooks/{subscription.pk + 99}/deliveries").status_code == 404


def test_the_admin_form_encrypts_the_secret_and_refuses_bad_input(db):
    form = WebhookSubscriptionForm(
        data={
            "name": "ERP",
            "url": "https://erp.example.com/hook",
            "events": '["accept", "resolve"]',
            "active": "on",
            "secret": SECRET,
        }
    )
    assert form.is_valid(), form.errors
    subscription = form.save()
    assert SECRET not in subscription.secret_encrypted and decrypt_secret(subscription) == SECRET
    bad = WebhookSubscriptionForm(
        data={"name": "CRM", "url": "ftp://crm.example.com", "events": '["accept", "explode"]', "secret": "short"}
    )
    assert not bad.is_valid()
    assert "explode" in str(bad.errors["events"]) and "24" in str(bad.errors["secret"]) and "url" in bad.errors
    # Editing without a secret keeps the old one.
    edit = WebhookSubscriptionForm(
        instance=subscription,
        data={"name": "ERP", "url": "https://erp.example.com/v2", "events": '["close"]', "active": "on"},
    )
    assert edit.is_valid(), edit.errors
    assert decrypt_secret(edit.save()) == SECRET


@pytest.mark.parametrize("rotated", [True])
def test_a_secret_sealed_under_an_old_key_opens_with_the_fallback(settings, db, rotated):
    subscription = subscribe("https://erp.example.com", ["accept"])
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-" + "x" * 40
    assert decrypt_secret(subscription) is None
    settings.SECRET_KEY_FALLBACKS = [old]
    assert decrypt_secret(subscription) == SECRET


# --- SSRF: internal addresses and redirects ------------------------------------------------------


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an address to refuse, not one to bind)
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
    ],
)
def test_internal_addresses_are_refused(ip):
    from notifications.webhooks import refused_reason

    assert refused_reason(ip)


@pytest.mark.parametrize("ip", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888"])
def test_public_addresses_are_allowed(ip):
    from notifications.webhooks import refused_reason

    assert refused_reason(ip) == ""


def test_a_loopback_receiver_is_refused_at_send_time_unless_allowed(
    cast, body, receiver, settings, django_capture_on_commit_callbacks
):
    settings.COMPLAINTDESK_WEBHOOK_ALLOW_PRIVATE = False
    erp = receiver([200])
    subscribe(erp.url, ["accept"])
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept(new_case(body), actor=Actor.staff(cast.supervisor))
    logged = WebhookDelivery.objects.get()
    assert erp.requests == []
    assert logged.status == "queued" and logged.last_error.startswith("address refused: 127.0.0.1 resolves")
    assert "COMPLAINTDESK_WEBHOOK_ALLOW_PRIVATE" in logged.last_error and logged.response_excerpt == ""
    settings.COMPLAINTDESK_WEBHOOK_ALLOW_PRIVATE = True
    assert attempt_webhook(logged.pk, now=logged.next_attempt_at) == "sent" and len(erp.requests) == 1


def test_a_name_is_checked_when_sending_not_only_when_saving(cast, body, monkeypatch, settings):
    """A name that pointed elsewhere when the admin saved it and now resolves to an internal address
    (DNS rebinding) is refused at the send."""
    import socket

    settings.COMPLAINTDESK_WEBHOOK_ALLOW_PRIVATE = False
    subscription = subscribe("http://hooks.partner.test/hook", ["accept"])
    real = socket.getaddrinfo

    def rebound(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "hooks.partner.test":  # the outside world's DNS: the one thing mocked
            return real("169.254.169.254", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebound)
    complaint = new_case(body)
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="accept", complaint=complaint, payload="{}"
    )
    assert attempt_webhook(delivery.pk) == "queued"
    delivery.refresh_from_db()
    assert "169.254.169.254 (link-local)" in delivery.last_error


def test_a_redirect_is_not_followed_and_fails_the_attempt(cast, body, receiver, django_capture_on_commit_callbacks):
    internal = receiver([200])
    erp = receiver([302], location=internal.url)
    subscribe(erp.url, ["accept"])
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept(new_case(body), actor=Actor.staff(cast.supervisor))
    logged = WebhookDelivery.objects.get()
    assert len(erp.requests) == 1 and internal.requests == []
    assert (logged.status, logged.status_code) == ("queued", 302)
    assert logged.last_error == "HTTP 302: redirect refused (webhooks do not follow redirects)"
    assert logged.response_excerpt == ""


def test_the_admin_form_refuses_internal_receivers(db, settings):
    settings.COMPLAINTDESK_WEBHOOK_ALLOW_PRIVATE = False
    for url in (
        "http://127.0.0.1:8000/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "http://localhost/",
    ):
        form = WebhookSubscriptionForm(
            data={"name": "ERP", "url": url, "events": '["accept"]', "active": "on", "secret": SECRET}
        )
        assert not form.is_valid() and "url" in form.errors, url
    settings.COMPLAINTDESK_WEBHOOK_ALLOW_PRIVATE = True
    form = WebhookSubscriptionForm(
        data={
            "name": "ERP",
            "url": "http://127.0.0.1:8000/hook",
            "events": '["accept"]',
            "active": "on",
            "secret": SECRET,
        }
    )
    assert form.is_valid(), form.errors
