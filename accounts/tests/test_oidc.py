"""Single sign-on through OpenID Connect against a provider running on loopback inside the test."""

from urllib.parse import urlparse

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from accounts.choices import SecurityEventKind
from accounts.models import SecurityEvent, User
from accounts.tests.conftest import enrol, now_code
from accounts.tests.oidc_provider import Provider


@pytest.fixture
def provider(settings):  # type: ignore[no-untyped-def]
    with Provider() as running:
        for name, value in running.settings().items():
            setattr(settings, name, value)
        settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "accounts.oidc.OidcBackend"]
        settings.OIDC_CREATE_USER = False
        yield running


def sso(client: Client, provider: Provider, username: str, next_url: str = "/staff/"):  # type: ignore[no-untyped-def]
    """The browser's round trip: to the provider, which signs `username` in and sends it back."""
    provider.claims = {"preferred_username": username, "email": f"{username}@example.com", "given_name": "Zhang"}
    start = client.get("/oidc/authenticate/", {"next": next_url})
    assert start.status_code == 302 and start["Location"].startswith(provider.issuer + "/authorize?")
    assert "code_challenge=" in start["Location"] and "nonce=" in start["Location"]
    back = requests.get(start["Location"], allow_redirects=False, timeout=5)
    callback = urlparse(back.headers["Location"])
    assert callback.path == "/oidc/callback/"
    return client.get(f"{callback.path}?{callback.query}")


def test_a_staff_member_signs_in_through_the_provider(cast, provider):
    client = Client()
    response = sso(client, provider, "agent")
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    event = SecurityEvent.objects.get(kind=SecurityEventKind.LOGIN, user=cast.agent)
    assert event.detail == {"backend": "OidcBackend"}


def test_someone_unknown_is_refused_unless_accounts_may_be_created(cast, provider, settings):
    client = Client()
    refused = sso(client, provider, "stranger")
    assert refused.status_code == 302 and refused["Location"] == "/staff/login/?sso=failed"
    assert not User.objects.filter(username="stranger").exists()
    assert "单点登录未成功" in client.get(refused["Location"]).content.decode()
    settings.OIDC_CREATE_USER = True
    created = sso(Client(), provider, "stranger")
    assert created.status_code == 302 and created["Location"] == "/staff/"
    stranger = User.objects.get(username="stranger")
    assert stranger.email == "stranger@example.com" and not stranger.has_usable_password()
    assert not stranger.memberships.exists()  # no role until an admin gives one


def test_legal_signing_in_through_the_provider_still_passes_the_second_step(cast, provider, clock, settings):
    secret = enrol(cast.legal)
    client = Client()
    assert sso(client, provider, "legal").status_code == 302
    held = client.get("/staff/")
    assert held.status_code == 302 and held["Location"].startswith("/staff/account/2fa/verify/")
    assert client.post("/staff/account/2fa/verify/", {"code": now_code(secret)}).status_code == 302
    assert client.get("/staff/").status_code == 200
    # A provider that did multi-factor itself is trusted when configured so.
    settings.COMPLAINTDESK_OIDC_TRUST_MFA = True
    provider.amr = ["pwd", "mfa"]
    trusted = Client()
    sso(trusted, provider, "legal")
    assert trusted.get("/staff/").status_code == 200


def test_a_forged_or_misdirected_id_token_is_refused(cast, provider, settings):
    provider.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert sso(Client(), provider, "agent")["Location"] == "/staff/login/?sso=failed"
    provider.signing_key = provider.key
    provider.audience = "another-client"
    assert sso(Client(), provider, "agent")["Location"] == "/staff/login/?sso=failed"
    provider.audience = "complaintdesk"
    settings.COMPLAINTDESK_OIDC_ISSUER = "https://idp.example.org"
    assert sso(Client(), provider, "agent")["Location"] == "/staff/login/?sso=failed"
    assert not SecurityEvent.objects.filter(kind=SecurityEventKind.LOGIN).exists()


def test_single_sign_on_is_not_there_unless_switched_on():
    assert Client().get("/oidc/authenticate/").status_code == 404
    assert Client().get("/oidc/callback/?code=x&state=y").status_code == 404
