"""Passwords hashed with Argon2 (older hashes upgraded at login), login throttling per username and per
client address, and the record of sign-in events."""

import importlib.util
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, identify_hasher
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.choices import SecurityEventKind
from accounts.models import SecurityEvent, User
from accounts.tests.conftest import sign_in

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "config" / "settings.py"


def project_settings(monkeypatch, **environment: str):  # type: ignore[no-untyped-def]
    """config/settings.py evaluated afresh under the given environment (the tests' own settings are a
    modified copy: conftest.py swaps the password hasher for a fast one)."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("settings_under_test", SETTINGS_FILE)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "settings_under_test", module)
    spec.loader.exec_module(module)
    return module


def test_argon2_hashes_passwords_and_older_hashes_are_upgraded_at_login(cast, settings, monkeypatch):
    production = project_settings(monkeypatch)
    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    # A PBKDF2 hash from before (few iterations: the test stays fast; the upgrade is the same).
    old_hash = PBKDF2PasswordHasher().encode("pw-agent", "oldsalt1234567890", iterations=1000)
    User.objects.filter(pk=cast.agent.pk).update(password=old_hash)
    _, response = sign_in(cast.agent)
    assert response.status_code == 302
    cast.agent.refresh_from_db()
    assert identify_hasher(cast.agent.password).algorithm == "argon2"
    assert cast.agent.password.startswith("argon2$argon2id$")


def test_weak_passwords_are_refused_when_set(cast):
    for weak in ("short1", "12345678901", "password123"):
        with pytest.raises(ValidationError):
            validate_password(weak, cast.agent)
    validate_password("Kettle-leaks-2026!", cast.agent)


def test_a_username_is_locked_after_repeated_failures_until_the_window_ends(cast, clock, settings):
    settings.COMPLAINTDESK_LOGIN_FAILURES_PER_USER = 3
    settings.COMPLAINTDESK_LOGIN_LOCKOUT_MINUTES = 10
    client = Client()
    for _ in range(3):
        assert client.post("/staff/login/", {"username": "agent", "password": "wrong"}).status_code == 200
    locked = client.post("/staff/login/", {"username": "agent", "password": "pw-agent"})
    html = locked.content.decode()
    assert locked.status_code == 429 and "账户已暂时锁定，请 10 分钟后再试" in html
    # The username is locked from any address; other users are not.
    assert sign_in(cast.agent, Client(REMOTE_ADDR="10.0.0.9"))[1].status_code == 429
    assert sign_in(cast.agent2)[1].status_code == 302
    clock.shift(10 * 60)
    assert sign_in(cast.agent)[1].status_code == 302
    kinds = list(SecurityEvent.objects.filter(username="agent").values_list("kind", flat=True))
    assert kinds.count(SecurityEventKind.LOGIN_FAILED) == 3 and kinds.count(SecurityEventKind.LOGIN_LOCKED) == 1


def test_the_admin_sites_login_obeys_the_same_lock(cast, clock, settings):
    settings.COMPLAINTDESK_LOGIN_FAILURES_PER_USER = 2
    client = Client()
    for _ in range(2):
        assert client.post("/admin/login/", {"username": "admin", "password": "wrong"}).status_code == 200
    refused = client.post("/admin/login/", {"username": "admin", "password": "pw-admin"})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    clock.shift(15 * 60)
    assert client.post("/admin/login/", {"username": "admin", "password": "pw-admin"}).status_code == 302
    assert "_auth_user_id" in client.session


def test_an_address_that_tries_many_usernames_is_locked(cast, clock, settings):
    settings.COMPLAINTDESK_LOGIN_FAILURES_PER_ADDRESS = 4
    sprayer = Client(REMOTE_ADDR="203.0.113.7")
    for name in ("agent", "agent2", "supervisor", "legal"):
        assert sprayer.post("/staff/login/", {"username": name, "password": "Winter2026"}).status_code == 200
    locked = sprayer.post("/staff/login/", {"username": "manager", "password": "pw-manager"})
    assert locked.status_code == 429 and "网络地址" in locked.content.decode()
    # Another address signs in as usual, and a right password from the address does not reset its count.
    assert sign_in(cast.manager, Client(REMOTE_ADDR="203.0.113.8"))[1].status_code == 302
    clock.shift(15 * 60)
    assert sign_in(cast.manager, sprayer)[1].status_code == 302


def test_ipv6_clients_are_counted_per_64_network(cast, clock, settings):
    settings.COMPLAINTDESK_LOGIN_FAILURES_PER_ADDRESS = 2
    for host in ("2001:db8:1:2::10", "2001:db8:1:2::11"):
        Client(REMOTE_ADDR=host).post("/staff/login/", {"username": "agent", "password": "x"})
    neighbour = Client(REMOTE_ADDR="2001:db8:1:2::99").post("/staff/login/", {"username": "agent2", "password": "x"})
    assert neighbour.status_code == 429


def test_a_successful_sign_in_is_recorded_with_its_address(cast, clock):
    sign_in(cast.agent, Client(REMOTE_ADDR="198.51.100.4"))
    event = SecurityEvent.objects.get(kind=SecurityEventKind.LOGIN, user=cast.agent)
    assert event.address == "198.51.100.4" and event.detail == {"backend": "ModelBackend"}


def test_the_login_page_shows_single_sign_on_only_when_switched_on(settings):
    assert 'id="sso-login"' not in Client().get("/staff/login/").content.decode()
    settings.COMPLAINTDESK_OIDC = True
    page = Client().get("/staff/login/?next=/staff/").content.decode()
    assert 'id="sso-login" href="/oidc/authenticate/?next=/staff/"' in page
