"""TOTP two-factor: required for admin and legal/PR, optional for the others; enrolment with a QR code
and recovery codes; a second login step; codes used once; secrets encrypted at rest."""

import re

import pyotp
import pytest
from django.test import Client

from accounts import actions, totp
from accounts.choices import SecurityEventKind
from accounts.models import RecoveryCode, SecurityEvent, TotpDevice
from accounts.tests.conftest import confirmed, enrol, now_code, sign_in, unverified


def secret_on_page(html: str) -> str:
    return re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")


def test_an_admin_without_an_authenticator_must_enrol_before_anything_else(cast, clock):
    client, response = sign_in(cast.admin)
    assert response.status_code == 302 and response["Location"].startswith("/staff/account/2fa/setup/")
    # Every other page sends them back to enrolment, the Django admin included; the API sees no session.
    for path in ("/staff/", "/staff/imports/", "/admin/", "/staff/account/security/"):
        page = client.get(path)
        assert page.status_code == 302 and page["Location"].startswith("/staff/account/2fa/setup/"), path
    assert client.get("/api/v1/notifications").status_code == 401
    setup = client.get(response["Location"])
    html = setup.content.decode()
    assert setup.status_code == 200 and "<svg" in html and "http" not in html.split("<svg", 1)[1].split("</svg>")[0]
    secret = secret_on_page(html)
    wrong = client.post("/staff/account/2fa/setup/", {"code": "000000" if now_code(secret) != "000000" else "111111"})
    assert wrong.status_code == 422 and "验证码不正确" in wrong.content.decode()
    done = client.post("/staff/account/2fa/setup/", {"code": now_code(secret), "next": "/staff/imports/"})
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", done.content.decode())
    assert done.status_code == 200 and len(codes) == 10
    assert RecoveryCode.objects.filter(user=cast.admin, used_at__isnull=True).count() == 10
    assert client.get("/staff/imports/").status_code == 200
    assert SecurityEvent.objects.filter(user=cast.admin, kind=SecurityEventKind.TWO_FACTOR_ENROLLED).exists()


def test_legal_with_an_authenticator_passes_the_second_step_with_a_code(cast, clock):
    secret = enrol(cast.legal)
    client, response = sign_in(cast.legal)
    assert response["Location"] == "/staff/account/2fa/verify/?next=%2Fstaff%2F"
    assert client.get("/staff/").status_code == 302
    wrong = client.post("/staff/account/2fa/verify/", {"code": "12345"})
    assert wrong.status_code == 422 and "验证码不正确" in wrong.content.decode()
    session_before = client.cookies["sessionid"].value
    passed = client.post("/staff/account/2fa/verify/", {"code": now_code(secret), "next": "/staff/"})
    assert passed.status_code == 302 and passed["Location"] == "/staff/"
    assert client.cookies["sessionid"].value != session_before  # a new session id once fully signed in
    assert client.get("/staff/").status_code == 200


def test_a_code_is_accepted_once_and_only_near_its_time(cast, clock):
    secret = enrol(cast.legal)
    first, _ = sign_in(cast.legal)
    code = now_code(secret)
    assert first.post("/staff/account/2fa/verify/", {"code": code}).status_code == 302
    # The same code again (someone who saw it) is refused, within its 30 seconds.
    second, _ = sign_in(cast.legal)
    assert second.post("/staff/account/2fa/verify/", {"code": code}).status_code == 422
    # The code of the step before the current one passes (clock drift); two steps back does not.
    clock.shift(60)
    assert second.post("/staff/account/2fa/verify/", {"code": now_code(secret, steps_ago=2)}).status_code == 422
    assert second.post("/staff/account/2fa/verify/", {"code": now_code(secret, steps_ago=1)}).status_code == 302


def test_a_recovery_code_stands_in_for_the_app_once(cast, clock):
    enrol(cast.legal)
    [code, *_] = actions._renew_recovery_codes(cast.legal)
    client, _ = sign_in(cast.legal)
    passed = client.post("/staff/account/2fa/verify/", {"code": code.upper().replace("-", " ")}, follow=True)
    assert passed.status_code == 200 and "还剩 9 个" in passed.content.decode()
    again, _ = sign_in(cast.legal)
    assert again.post("/staff/account/2fa/verify/", {"code": code}).status_code == 422
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.RECOVERY_CODE_USED, user=cast.legal).count() == 1


def test_wrong_codes_lock_the_second_step_for_the_window(cast, clock, settings):
    settings.COMPLAINTDESK_2FA_FAILURES = 3
    secret = enrol(cast.legal)
    client, _ = sign_in(cast.legal)
    bad = "000000" if now_code(secret) != "000000" else "111111"
    for _ in range(3):
        assert client.post("/staff/account/2fa/verify/", {"code": bad}).status_code == 422
    locked = client.post("/staff/account/2fa/verify/", {"code": now_code(secret)})
    assert locked.status_code == 429 and "分钟后再试" in locked.content.decode()
    clock.shift(15 * 60)
    assert client.post("/staff/account/2fa/verify/", {"code": now_code(secret)}).status_code == 302


def test_two_factor_is_optional_for_an_agent_and_asked_once_chosen(cast, clock):
    client, response = sign_in(cast.agent)
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    # The agent enrols of their own choice, from the security page.
    page = client.get("/staff/account/security/")
    assert page.status_code == 200 and 'id="enable-2fa"' in page.content.decode()
    setup = client.get("/staff/account/2fa/setup/?next=/staff/account/security/")
    secret = secret_on_page(setup.content.decode())
    assert client.post("/staff/account/2fa/setup/", {"code": now_code(secret)}).status_code == 200
    clock.shift(30)
    again, response = sign_in(cast.agent)
    assert response["Location"].startswith("/staff/account/2fa/verify/")
    # …and may turn it off again with a code; legal/PR may not.
    assert again.post("/staff/account/2fa/verify/", {"code": now_code(secret)}).status_code == 302
    clock.shift(30)
    assert again.post("/staff/account/security/2fa/disable/", {"code": now_code(secret)}).status_code == 302
    assert confirmed(cast.agent) is None and not RecoveryCode.objects.filter(user=cast.agent).exists()
    legal_secret = enrol(cast.legal)
    legal = Client()
    legal.force_login(cast.legal)
    refused = legal.post("/staff/account/security/2fa/disable/", {"code": now_code(legal_secret)})
    assert refused.status_code == 422 and "不能停用" in refused.content.decode()
    assert confirmed(cast.legal) is not None


def test_replacing_the_app_needs_a_code_of_the_current_one(cast, clock):
    old_secret = enrol(cast.legal)
    client = Client()
    client.force_login(cast.legal)
    assert client.post("/staff/account/security/2fa/replace/", {"code": "999999"}).status_code == 422
    started = client.post("/staff/account/security/2fa/replace/", {"code": now_code(old_secret)})
    assert started.status_code == 302 and started["Location"] == "/staff/account/2fa/setup/"
    new_secret = secret_on_page(client.get("/staff/account/2fa/setup/").content.decode())
    assert new_secret != old_secret
    clock.shift(30)
    assert client.post("/staff/account/2fa/setup/", {"code": now_code(new_secret)}).status_code == 200
    assert TotpDevice.objects.filter(user=cast.legal).count() == 1
    clock.shift(30)
    fresh, _ = sign_in(cast.legal)
    assert fresh.post("/staff/account/2fa/verify/", {"code": now_code(old_secret)}).status_code == 422
    assert fresh.post("/staff/account/2fa/verify/", {"code": now_code(new_secret)}).status_code == 302


def test_a_password_alone_cannot_enrol_a_new_app_over_an_existing_one(cast, clock):
    secret = enrol(cast.legal)
    # The real user began a replacement; someone holding only the password must not see or confirm it.
    actions.start_enrolment(cast.legal)
    attacker, _ = sign_in(cast.legal)
    setup = attacker.get("/staff/account/2fa/setup/")
    assert setup.status_code == 302 and setup["Location"].startswith("/staff/account/2fa/verify/")
    assert attacker.post("/staff/account/2fa/setup/", {"code": "123456"}).status_code == 302
    assert totp.open_sealed(cast.legal.pk, confirmed(cast.legal).secret_encrypted)[0] == secret


def test_a_force_logged_in_session_without_the_second_step_is_held_back(cast, clock):
    enrol(cast.admin)
    client = Client()
    client.force_login(cast.admin)
    assert client.get("/staff/imports/").status_code == 200  # the conftest's mark: both steps done
    unverified(client)
    page = client.get("/staff/imports/?page=2")
    assert (
        page.status_code == 302
        and page["Location"] == "/staff/account/2fa/verify/?next=%2Fstaff%2Fimports%2F%3Fpage%3D2"
    )
    htmx = client.get("/staff/imports/", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx["HX-Redirect"].startswith("/staff/account/2fa/verify/")
    assert client.post("/staff/account/security/tokens/", {"name": "x"}).status_code == 302  # no write either
    # An agent (no role requiring it, no app) is not held back.
    agent = unverified(_forced(cast.agent))
    assert agent.get("/staff/").status_code == 200


def _forced(user):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_secret_is_stored_encrypted_and_bound_to_its_user(cast, settings):
    device, secret = actions.start_enrolment(cast.legal)
    assert secret not in device.secret_encrypted
    assert totp.open_sealed(cast.legal.pk, device.secret_encrypted) == (secret, False)
    assert totp.open_sealed(cast.agent.pk, device.secret_encrypted) is None  # copied to another user: useless
    # SECRET_KEY rotated with the old key kept as a fallback: the secret still opens, and is sealed anew.
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-the-rotation-test-0123456789"
    assert actions.device_secret(device) == secret
    device.refresh_from_db()
    assert totp.open_sealed(cast.legal.pk, device.secret_encrypted) == (secret, False)
    settings.SECRET_KEY_FALLBACKS = []
    assert actions.device_secret(device) == secret


def test_the_qr_code_carries_the_standard_otpauth_uri(cast):
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "legal")
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == secret and parsed.name == "legal" and parsed.issuer == "ComplaintDesk"
    svg = str(totp.qr_svg(uri))
    assert svg.startswith("<svg") and "style=" not in svg  # the CSP allows no inline style


def test_recovery_codes_are_stored_hashed_and_renewed_with_a_code(cast, clock):
    secret = enrol(cast.agent)
    client = _forced(cast.agent)
    renewed = client.post("/staff/account/security/2fa/recovery-codes/", {"code": now_code(secret)})
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", renewed.content.decode())
    assert renewed.status_code == 200 and len(set(codes)) == 10
    stored = list(RecoveryCode.objects.filter(user=cast.agent).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not any(code in h for code in codes for h in stored)
    missing = client.post("/staff/account/security/2fa/recovery-codes/", {"code": ""})
    assert missing.status_code == 422 and "请输入验证码" in missing.content.decode()


def test_an_admin_resets_a_lost_authenticator_in_the_admin_site(cast, clock):
    enrol(cast.legal)
    enrol(cast.admin)
    cast.admin.is_superuser = True
    cast.admin.save(update_fields=["is_superuser"])
    client = _forced(cast.admin)
    response = client.post(
        "/admin/accounts/user/", {"action": "reset_two_factor", "_selected_action": [cast.legal.pk]}, follow=True
    )
    assert response.status_code == 200
    assert confirmed(cast.legal) is None
    event = SecurityEvent.objects.get(kind=SecurityEventKind.TWO_FACTOR_DISABLED, user=cast.legal)
    assert event.detail == {"by": "admin", "reset": True}
    # At the next sign-in legal/PR must enrol again.
    _, again = sign_in(cast.legal)
    assert again["Location"].startswith("/staff/account/2fa/setup/")


@pytest.mark.parametrize("path", ["/staff/account/2fa/verify/", "/staff/account/2fa/setup/"])
def test_the_second_step_pages_send_anonymous_visitors_to_the_login(path):
    response = Client().get(path)
    assert response.status_code == 302 and response["Location"] == "/staff/login/"


def test_the_next_page_after_the_second_step_stays_on_this_site(cast, clock):
    secret = enrol(cast.legal)
    client, _ = sign_in(cast.legal)
    passed = client.post("/staff/account/2fa/verify/", {"code": now_code(secret), "next": "https://evil.example/"})
    assert passed.status_code == 302 and passed["Location"] == "/staff/"
