"""Sessions end when idle and after a maximum age; cookies are HttpOnly, SameSite and (behind TLS)
Secure with HSTS; every main page carries the security headers."""

import pytest
from django.test import Client

from accounts.choices import SecurityEventKind
from accounts.models import SecurityEvent
from accounts.tests.conftest import sign_in
from accounts.tests.test_login import project_settings
from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor


@pytest.fixture
def expiring(settings):  # type: ignore[no-untyped-def]
    settings.COMPLAINTDESK_SESSION_IDLE_MINUTES = 30
    settings.COMPLAINTDESK_SESSION_HOURS = 2
    settings.SESSION_COOKIE_AGE = 2 * 3600


def test_a_session_ends_after_the_idle_time(cast, clock, expiring):
    client, _ = sign_in(cast.agent)
    clock.shift(20 * 60)
    assert client.get("/staff/").status_code == 200  # used within the idle time: kept alive
    clock.shift(29 * 60)
    assert client.get("/staff/").status_code == 200
    clock.shift(31 * 60)
    gone = client.get("/staff/", follow=True)
    assert gone.redirect_chain[0][0].startswith("/staff/login/")
    assert "已自动退出" in gone.content.decode()
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.SESSION_EXPIRED, user=cast.agent).count() == 1
    assert not SecurityEvent.objects.filter(kind=SecurityEventKind.LOGOUT).exists()


def test_a_session_ends_after_its_maximum_age_however_busy(cast, clock, expiring):
    client, _ = sign_in(cast.agent)
    for _ in range(6):
        clock.shift(20 * 60)
        assert client.get("/staff/").status_code == 200
    clock.shift(20 * 60 + 1)
    assert client.get("/staff/").status_code == 302
    # To the API an expired session is no session.
    client, _ = sign_in(cast.agent)
    clock.shift(31 * 60)
    assert client.get("/api/v1/complaints").status_code == 401


def test_session_and_csrf_cookies_are_http_only_and_same_site(cast):
    client = Client()
    client.get("/staff/login/")
    response = client.post("/staff/login/", {"username": "agent", "password": "pw-agent"})
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"
    csrf = client.get("/staff/login/").cookies.get("csrftoken") or client.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"


def test_behind_tls_cookies_are_secure_host_only_and_hsts_is_sent(monkeypatch):
    secure = project_settings(monkeypatch, SECURE_COOKIES="on")
    assert secure.SESSION_COOKIE_SECURE and secure.CSRF_COOKIE_SECURE
    assert secure.SESSION_COOKIE_NAME == "__Host-sessionid" and secure.CSRF_COOKIE_NAME == "__Host-csrftoken"
    assert secure.SECURE_HSTS_SECONDS == 31536000
    plain = project_settings(monkeypatch, SECURE_COOKIES="off")
    assert not plain.SESSION_COOKIE_SECURE and plain.SECURE_HSTS_SECONDS == 0
    assert plain.SESSION_COOKIE_AGE == 12 * 3600 and plain.COMPLAINTDESK_SESSION_IDLE_MINUTES == 60


def test_hsts_and_secure_cookies_on_https_requests(cast, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    client = Client()
    page = client.get("/staff/login/", secure=True)
    assert page["Strict-Transport-Security"] == "max-age=31536000"
    assert client.cookies["csrftoken"]["secure"]
    signed_in = client.post("/staff/login/", {"username": "agent", "password": "pw-agent"}, secure=True)
    assert signed_in.cookies["sessionid"]["secure"]
    assert "Strict-Transport-Security" not in Client().get("/staff/login/")  # not over plain HTTP


def _main_pages(cast, body):  # type: ignore[no-untyped-def]
    case = actions.submit(check_intake(IntakeData(**body()), staff=False), actor=Actor.consumer())[0]
    return [
        (None, "/"),
        (None, "/staff/login/"),
        (None, "/api/v1/openapi.json"),
        (cast.supervisor, "/staff/"),
        (cast.supervisor, f"/staff/cases/{case.tracking_no}/"),
        (cast.supervisor, "/staff/account/security/"),
        (cast.supervisor, "/api/v1/complaints"),
        (cast.analyst, "/staff/analytics/"),
    ]


def test_every_main_page_carries_the_security_headers(cast, body):
    for user, path in _main_pages(cast, body):
        client = Client()
        if user is not None:
            client.force_login(user)
        response = client.get(path)
        assert response.status_code == 200, path
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp
        assert response["X-Frame-Options"] == "DENY", path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", path
        assert response["Cross-Origin-Resource-Policy"] == "same-origin", path
        assert "camera=()" in response["Permissions-Policy"], path
        if path.startswith("/staff/"):
            assert "no-store" in response["Cache-Control"], path
