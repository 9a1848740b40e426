"""Sign-in against an LDAP directory (django-auth-ldap): a private OpenLDAP server (Debian's slapd) is
started on a loopback port from a temporary folder for these tests."""

import base64
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from accounts.choices import SecurityEventKind
from accounts.models import SecurityEvent, User
from accounts.tests.conftest import enrol, now_code
from accounts.tests.test_login import project_settings

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
BASE = "dc=example,dc=org"
ADMIN_DN, ADMIN_PASSWORD = f"cn=admin,{BASE}", "directory-admin-pw"


def _missing() -> str | None:
    try:
        import django_auth_ldap  # noqa: F401
        import ldap  # noqa: F401
    except ImportError:
        return "django-auth-ldap / python-ldap not installed (pip needs libldap-dev and libsasl2-dev)"
    if not os.access(SLAPD, os.X_OK):
        return "Debian's slapd is not installed (apt-get install slapd ldap-utils)"
    return None


def _ssha(password: str) -> str:
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt, usedforsecurity=False).digest()  # the directory's {SSHA} scheme
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def _person(uid: str, password: str, mail: str) -> str:
    return (
        f"dn: uid={uid},ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid.title()}\n"
        f"givenName: {uid.title()}\nmail: {mail}\nuserPassword: {_ssha(password)}\n\n"
    )


@pytest.fixture(scope="module")
def directory() -> Iterator[str]:
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"LDAP test cannot run under CI: {reason}")
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="cd-slapd-"))
    (folder / "db").mkdir()
    schema = "/etc/ldap/schema"
    (folder / "slapd.conf").write_text(
        f"include {schema}/core.schema\ninclude {schema}/cosine.schema\ninclude {schema}/inetorgperson.schema\n"
        f"modulepath /usr/lib/ldap\nmoduleload back_mdb\npidfile {folder}/slapd.pid\n"
        f'database mdb\nmaxsize 10485760\nsuffix "{BASE}"\nrootdn "{ADMIN_DN}"\nrootpw {ADMIN_PASSWORD}\n'
        f"directory {folder}/db\n"
    )
    (folder / "data.ldif").write_text(
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n"
        f"dn: ou=people,{BASE}\nobjectClass: organizationalUnit\nou: people\n\n"
        + _person("agent", "dir-pass-agent", "agent@dir.example.org")
        + _person("legal", "dir-pass-legal", "legal@dir.example.org")
        + _person("newhire", "dir-pass-new", "newhire@dir.example.org")
    )
    subprocess.run(
        [SLAPADD, "-f", str(folder / "slapd.conf"), "-l", str(folder / "data.ldif")],
        check=True,
        capture_output=True,
        timeout=30,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(  # -d 0: stays in the foreground, so the test owns the process
        [SLAPD, "-f", str(folder / "slapd.conf"), "-h", f"ldap://127.0.0.1:{port}/", "-d", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("slapd did not start") from None
                time.sleep(0.05)
        yield f"ldap://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def ldap_settings(settings, directory):  # type: ignore[no-untyped-def]
    settings.AUTH_LDAP_SERVER_URI = directory
    settings.AUTH_LDAP_USER_DN_TEMPLATE = f"uid=%(user)s,ou=people,{BASE}"
    settings.AUTH_LDAP_USER_ATTR_MAP = {"first_name": "givenName", "last_name": "sn", "email": "mail"}
    settings.AUTH_LDAP_NO_NEW_USERS = True
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "django_auth_ldap.backend.LDAPBackend"]
    return settings


def login(username: str, password: str, client: Client | None = None):  # type: ignore[no-untyped-def]
    client = client or Client()
    return client, client.post("/staff/login/", {"username": username, "password": password})


def test_a_staff_member_signs_in_with_the_directory_password(cast, ldap_settings):
    client, response = login("agent", "dir-pass-agent")
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    cast.agent.refresh_from_db()
    assert cast.agent.email == "agent@dir.example.org"  # kept in step with the directory
    event = SecurityEvent.objects.get(kind=SecurityEventKind.LOGIN, user=cast.agent)
    assert event.detail == {"backend": "LDAPBackend"}


def test_a_wrong_directory_password_fails_and_counts_towards_the_lock(cast, ldap_settings, clock):
    ldap_settings.COMPLAINTDESK_LOGIN_FAILURES_PER_USER = 2
    for _ in range(2):
        assert login("agent", "not-the-password")[1].status_code == 200
    # Locked: the directory is not even asked, the right password is refused.
    assert login("agent", "dir-pass-agent")[1].status_code == 429
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.LOGIN_FAILED, username="agent").count() == 2


def test_someone_only_in_the_directory_gets_in_only_if_accounts_may_be_created(cast, ldap_settings):
    assert login("newhire", "dir-pass-new")[1].status_code == 200
    assert not User.objects.filter(username="newhire").exists()
    ldap_settings.AUTH_LDAP_NO_NEW_USERS = False
    assert login("newhire", "dir-pass-new")[1].status_code == 302
    newhire = User.objects.get(username="newhire")
    assert newhire.email == "newhire@dir.example.org" and not newhire.memberships.exists()


def test_the_directory_password_is_followed_by_the_second_step(cast, ldap_settings, clock):
    secret = enrol(cast.legal)
    client, response = login("legal", "dir-pass-legal")
    assert response["Location"].startswith("/staff/account/2fa/verify/")
    assert client.get("/staff/").status_code == 302
    assert client.post("/staff/account/2fa/verify/", {"code": now_code(secret)}).status_code == 302
    assert client.get("/staff/").status_code == 200


def test_users_are_found_by_a_search_with_a_service_account(cast, ldap_settings, monkeypatch):
    configured = project_settings(
        monkeypatch,
        COMPLAINTDESK_LDAP_SERVER_URI=ldap_settings.AUTH_LDAP_SERVER_URI,
        COMPLAINTDESK_LDAP_BIND_DN=ADMIN_DN,
        COMPLAINTDESK_LDAP_BIND_PASSWORD=ADMIN_PASSWORD,
        COMPLAINTDESK_LDAP_SEARCH_BASE=f"ou=people,{BASE}",
    )
    assert configured.AUTHENTICATION_BACKENDS[-1] == "django_auth_ldap.backend.LDAPBackend"
    assert configured.AUTHENTICATION_BACKENDS[0] == "accounts.backends.LoginThrottle"
    ldap_settings.AUTH_LDAP_USER_DN_TEMPLATE = None
    for name in (
        "AUTH_LDAP_USER_SEARCH",
        "AUTH_LDAP_BIND_DN",
        "AUTH_LDAP_BIND_PASSWORD",
        "AUTH_LDAP_CONNECTION_OPTIONS",
    ):
        setattr(ldap_settings, name, getattr(configured, name))
    assert login("agent", "dir-pass-agent")[1].status_code == 302
    assert login("agent", "wrong")[1].status_code == 200
