"""A token issued without an expiry still expires (COMPLAINTDESK_API_TOKEN_DAYS), and security events are
purged after COMPLAINTDESK_SECURITY_EVENT_DAYS by the daily job."""

from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from accounts.choices import SecurityEventKind
from accounts.jobs import purge_security_events
from accounts.models import ApiToken, SecurityEvent


@override_settings(COMPLAINTDESK_API_TOKEN_DAYS=30)
def test_token_issued_without_expiry_expires_after_the_default(django_user_model, db):
    user = django_user_model.objects.create_user("tok", password="x")
    before = timezone.now()
    token, _ = ApiToken.issue(user, "script")
    assert token.expires_at is not None
    assert before + timedelta(days=30) <= token.expires_at <= timezone.now() + timedelta(days=30)
    assert not token.is_expired()
    assert token.is_expired(token.expires_at + timedelta(seconds=1))


@override_settings(COMPLAINTDESK_API_TOKEN_DAYS=0, COMPLAINTDESK_API_TOKEN_MAX_DAYS=7)
def test_token_days_zero_means_the_longest(django_user_model, db):
    user = django_user_model.objects.create_user("tok2", password="x")
    token, _ = ApiToken.issue(user, "script")
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)


@override_settings(COMPLAINTDESK_SECURITY_EVENT_DAYS=90)
def test_security_events_older_than_the_period_are_purged(db):
    now = timezone.now()
    old = SecurityEvent.objects.create(kind=SecurityEventKind.LOGIN_FAILED, username="x", address="192.0.2.1")
    SecurityEvent.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=91))
    edge = SecurityEvent.objects.create(kind=SecurityEventKind.LOGIN_FAILED, username="y", address="192.0.2.2")
    SecurityEvent.objects.filter(pk=edge.pk).update(created_at=now - timedelta(days=89))
    assert purge_security_events(now) == {"deleted": 1}
    assert list(SecurityEvent.objects.values_list("username", flat=True)) == ["y"]
    assert purge_security_events(now) == {"deleted": 0}
