"""API tokens: stored hashed, scoped (read, write, intake, analytics) and expiring; issued and revoked
by their owner on the account security page or by the command line."""

import hashlib
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts import actions
from accounts.choices import Scope, SecurityEventKind
from accounts.models import ApiToken, SecurityEvent
from accounts.scopes import required_scope
from accounts.tests.conftest import make_role_less_user
from complaints import actions as case_actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor


def bearer(user, *scopes: str, days: int = 30) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _, raw = actions.issue_api_token(user, "test", scopes, days)
    return {"Authorization": f"Bearer {raw}"}


def new_case(body):  # type: ignore[no-untyped-def]
    return case_actions.submit(check_intake(IntakeData(**body()), staff=False), actor=Actor.consumer())[0]


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/api/v1/complaints", Scope.READ),
        ("GET", "/api/v1/complaints/TS20261123-000001/timeline", Scope.READ),
        ("HEAD", "/api/v1/customers", Scope.READ),
        ("POST", "/api/v1/complaints/TS20261123-000001/accept", Scope.WRITE),
        ("PATCH", "/api/v1/improvement/plans/3", Scope.WRITE),
        ("POST", "/api/v1/intelligence/spikes/4/acknowledge", Scope.WRITE),
        ("POST", "/api/v1/complaints", Scope.INTAKE),
        ("GET", "/api/v1/complaints/", Scope.READ),
        ("GET", "/api/v1/analytics/kpis", Scope.ANALYTICS),
        ("POST", "/api/v1/reports/exports", Scope.ANALYTICS),
        ("GET", "/api/v1/intelligence/forecast", Scope.ANALYTICS),
        ("GET", "/api/v1/feedback/satisfaction", Scope.ANALYTICS),
        ("GET", "/api/v1/public/complaints/TS20261123-000001", None),
        ("POST", "/api/v1/intake/webhooks/jd", None),
        ("GET", "/api/v1/openapi.json", None),
        ("GET", "/staff/", None),
    ],
)
def test_each_endpoint_needs_the_scope_of_the_table(method, path, scope):
    assert required_scope(method, path) == scope


def test_a_read_token_reads_but_cannot_write(cast, body):
    case = new_case(body)
    client = Client()
    read = bearer(cast.supervisor, Scope.READ)
    detail = client.get(f"/api/v1/complaints/{case.tracking_no}", headers=read)
    assert detail.status_code == 200
    refused = client.post(
        f"/api/v1/complaints/{case.tracking_no}/accept",
        {"priority": "P2"},
        content_type="application/json",
        headers={**read, "If-Match": detail["ETag"]},
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_scope" and refused.json()["required_scope"] == "write"
    assert refused["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="write"'
    case.refresh_from_db()
    assert case.status == "new"
    write = bearer(cast.supervisor, Scope.WRITE)
    done = client.post(
        f"/api/v1/complaints/{case.tracking_no}/accept",
        {"priority": "P2"},
        content_type="application/json",
        headers={**write, "If-Match": detail["ETag"]},
    )
    assert done.status_code == 200 and done.json()["status"] == "accepted"
    # Scopes add to the roles, never to them: a write token of an auditor changes nothing.
    auditor = client.post(
        f"/api/v1/complaints/{case.tracking_no}/escalate",
        {"reason": "x"},
        content_type="application/json",
        headers={**bearer(cast.auditor, Scope.WRITE, Scope.READ), "If-Match": done["ETag"]},
    )
    assert auditor.status_code in {403, 404}


def test_registering_a_complaint_by_token_needs_the_intake_scope(cast, body):
    client = Client()
    payload = body(channel="phone")
    refused = client.post(
        "/api/v1/complaints",
        payload,
        content_type="application/json",
        headers=bearer(cast.agent, Scope.READ, Scope.WRITE),
    )
    assert refused.status_code == 403 and refused.json()["required_scope"] == "intake"
    done = client.post(
        "/api/v1/complaints", payload, content_type="application/json", headers=bearer(cast.agent, Scope.INTAKE)
    )
    assert done.status_code == 201 and done.json()["tracking_no"].startswith("TS")


def test_the_analytics_endpoints_need_the_analytics_scope(cast):
    client = Client()
    period = {"from": date(2026, 11, 1).isoformat(), "to": date(2026, 11, 7).isoformat()}
    assert client.get("/api/v1/analytics/kpis", period, headers=bearer(cast.analyst, Scope.READ)).status_code == 403
    assert (
        client.get("/api/v1/analytics/kpis", period, headers=bearer(cast.analyst, Scope.ANALYTICS)).status_code == 200
    )
    # An analytics token reads no case.
    assert client.get("/api/v1/complaints", headers=bearer(cast.analyst, Scope.ANALYTICS)).status_code == 403


def test_an_expired_or_revoked_token_is_refused_with_the_reason(cast, clock):
    client = Client()
    headers = bearer(cast.agent, Scope.READ, days=1)
    assert client.get("/api/v1/complaints", headers=headers).status_code == 200
    clock.shift(24 * 3600 + 1)
    expired = client.get("/api/v1/complaints", headers=headers)
    assert expired.status_code == 401 and expired.json()["error"] == "token_expired"
    live = bearer(cast.agent, Scope.READ)
    ApiToken.objects.filter(user=cast.agent, revoked=False, expires_at__gt=timezone.now()).update(revoked=True)
    revoked = client.get("/api/v1/complaints", headers=live)
    assert revoked.status_code == 401 and revoked.json()["error"] == "token_revoked"
    unknown = client.get("/api/v1/complaints", headers={"Authorization": "Bearer cd_nothing"})
    assert unknown.status_code == 401


def test_a_token_expires_by_default_after_the_configured_days(cast, settings, clock):
    settings.COMPLAINTDESK_API_TOKEN_DAYS = 90
    out = StringIO()
    call_command("create_api_token", "agent", stdout=out)
    token = ApiToken.objects.get(key_hash=hashlib.sha256(out.getvalue().strip().encode()).hexdigest())
    assert token.expires_at == timezone.now() + timedelta(days=90)
    assert token.scope_list == list(Scope.values)
    page = Client()
    page.force_login(cast.agent)
    assert (
        'name="days" type="number" min="1" max="730" value="90"'
        in page.get("/staff/account/security/").content.decode()
    )


def test_an_agent_issues_a_token_on_the_security_page_and_sees_it_once(cast):
    client = Client()
    client.force_login(cast.agent)
    page = client.get("/staff/account/security/")
    assert page.status_code == 200 and 'id="form-token-issue"' in page.content.decode()
    issued = client.post("/staff/account/security/tokens/", {"name": "CRM", "scopes": ["read", "write"], "days": "30"})
    html = issued.content.decode()
    raw = html.split('<div class="messages" role="status" id="new-token">', 1)[1].split("<code>")[1].split("</code>")[0]
    assert issued.status_code == 200 and raw.startswith("cd_")
    token = ApiToken.objects.get(user=cast.agent, name="CRM")
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest() and raw not in token.key_hash
    assert token.scopes == "read write" and token.expires_at.date() == (timezone.now() + timedelta(days=30)).date()
    assert raw not in client.get("/staff/account/security/").content.decode()  # shown once
    event = SecurityEvent.objects.get(kind=SecurityEventKind.TOKEN_ISSUED, user=cast.agent)
    assert event.detail["scopes"] == ["read", "write"] and raw not in str(event.detail)


def test_issuing_a_token_names_each_wrong_field(cast, settings):
    settings.COMPLAINTDESK_API_TOKEN_MAX_DAYS = 365
    client = Client()
    client.force_login(cast.agent)
    refused = client.post("/staff/account/security/tokens/", {"name": " ", "scopes": ["root"], "days": "400"})
    html = refused.content.decode()
    assert refused.status_code == 422
    assert "请填写令牌名称" in html and "未知的权限范围：root" in html and "有效期应为 1 到 365 天" in html
    none = client.post("/staff/account/security/tokens/", {"name": "x", "days": "10"})
    assert none.status_code == 422 and "请至少选择一项权限范围" in none.content.decode()
    assert not ApiToken.objects.filter(user=cast.agent).exists()


def test_the_security_page_as_anonymous_a_user_without_role_and_another_users_token(cast, org):
    assert Client().get("/staff/account/security/")["Location"].startswith("/staff/login/")
    assert Client().post("/staff/account/security/tokens/", {"name": "x"})["Location"].startswith("/staff/login/")
    nobody = Client()
    nobody.force_login(make_role_less_user())
    refused = nobody.post("/staff/account/security/tokens/", {"name": "x", "scopes": ["read"], "days": "5"})
    assert refused.status_code == 403 and not ApiToken.objects.exists()
    theirs, _ = actions.issue_api_token(cast.outsider, "theirs", ["read"], 5)
    client = Client()
    client.force_login(cast.agent)
    assert client.post(f"/staff/account/security/tokens/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert not theirs.revoked
    mine, _ = actions.issue_api_token(cast.agent, "mine", ["read"], 5)
    assert client.post(f"/staff/account/security/tokens/{mine.pk}/revoke/").status_code == 302
    mine.refresh_from_db()
    assert mine.revoked
    assert client.get(f"/staff/account/security/tokens/{mine.pk}/revoke/").status_code == 405


def test_the_command_issues_a_scoped_expiring_token(cast, clock):
    out = StringIO()
    call_command("create_api_token", "agent", "--name", "script", "--scope", "read", "--days", "7", stdout=out)
    raw = out.getvalue().strip()
    token = ApiToken.objects.get(key_hash=hashlib.sha256(raw.encode()).hexdigest())
    assert token.scopes == "read" and token.expires_at == timezone.now() + timedelta(days=7)
