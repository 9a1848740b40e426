"""Personas and the organisation every test shares (CONVENTIONS.md: a small cast reused everywhere)."""

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from accounts.choices import OrgUnitKind, Role
from accounts.models import ApiToken, Department, Membership, OrgUnit, User

if os.environ.get("CI") == "true" and "postgres" in os.environ.get("DATABASE_URL", ""):
    # With CI=true an unreachable PostgreSQL is a failure, never a skip.
    import psycopg

    psycopg.connect(os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres", connect_timeout=5).close()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    from core import regions

    with django_db_blocker.unblock():
        regions.load()
    yield
    # Before pytest-django drops the test database: a connection some thread of a test left open (a
    # live server's) would make DROP DATABASE fail, and the database stay behind on the server.
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.COMPLAINTDESK_RATELIMIT = False
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.LANGUAGE_CODE = "zh-hans"
    # Pages are rendered from the source files; the hashed manifest exists only after collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Evidence goes to a folder of the test's own.
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence")},
        },
    }
    from core import configcache

    configcache.clear()  # rolled-back rows must not linger in the per-process cache
    # Real password hashing costs ~0.3 s a user; the cast has a dozen.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The text's risk flags and sentiment are still read at intake (intelligence.signals), but not
    # applied to the case: most tests' complaints mention 漏电, a safety hazard, which would escalate
    # every one of them to the crisis level. The tests of signals and crisis handling turn it on.
    settings.COMPLAINTDESK_APPLY_TEXT_SIGNALS = False
    settings.COMPLAINTDESK_SIMILARITY_DIR = str(tmp_path / "similarity")
    # Uploads and exports go to a folder of the test's own too: `make test` runs tests in parallel.
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Sessions do not expire (issue 9): many tests travel days ahead with a signed-in client. The
    # session tests in accounts/tests turn idle and maximum age on.
    settings.COMPLAINTDESK_SESSION_IDLE_MINUTES = 0
    settings.COMPLAINTDESK_SESSION_HOURS = 0
    settings.SESSION_COOKIE_AGE = 14 * 24 * 3600


@pytest.fixture(autouse=True)
def _client_logins_pass_the_second_step(monkeypatch):  # type: ignore[no-untyped-def]
    """A test client's force_login() or login() stands for a completed sign-in, second step included
    (issue 9: admin and legal/PR must pass TOTP; accounts.middleware.TwoFactorRequired). The tests of
    the second step sign in through the pages, or take the mark away (accounts/tests)."""
    import time

    from accounts import sessions

    original = Client._login

    def _login(self, user, backend=None):  # type: ignore[no-untyped-def]
        original(self, user, backend)
        session = self.session
        session[sessions.TWO_FACTOR_AT] = int(time.time())
        session.save()

    monkeypatch.setattr(Client, "_login", _login)


@dataclass
class Org:
    service: Department
    quality: Department
    logistics: Department
    legal_dept: Department
    company: OrgUnit
    south: OrgUnit
    north: OrgUnit
    store_sz: OrgUnit
    store_bj: OrgUnit


def ensure_reference_data() -> None:
    """Transactional tests flush every table, the migrations' taxonomy and the regions included."""
    import importlib

    from django.apps import apps as django_apps

    from complaints.models import Category
    from core import regions
    from core.models import Region

    if not Category.objects.exists():
        seed = importlib.import_module("complaints.migrations.0003_search_index_and_defaults").seed
        seed(django_apps, None)
    if not Region.objects.exists():
        regions.load()
    # The rules and message templates that issue 6's migrations seed (each seed skips what exists).
    from feedback.models import CallbackRule, SurveyRule
    from notifications.models import MessageTemplate

    if not (SurveyRule.objects.exists() and CallbackRule.objects.exists()):
        importlib.import_module("feedback.migrations.0002_default_rules").seed(django_apps, None)
    if not MessageTemplate.objects.exists():
        importlib.import_module("notifications.migrations.0002_default_templates").seed(django_apps, None)


@pytest.fixture
def org(db) -> Org:  # type: ignore[no-untyped-def]
    ensure_reference_data()
    service = Department.objects.create(code="service", name="客服中心", name_en="Customer Service", is_default=True)
    quality = Department.objects.create(code="quality", name="质量部", name_en="Quality")
    logistics = Department.objects.create(code="logistics", name="物流部", name_en="Logistics")
    legal_dept = Department.objects.create(code="legal", name="法务部", name_en="Legal")
    company = OrgUnit.objects.create(name="示例集团", kind=OrgUnitKind.COMPANY)
    south = OrgUnit.objects.create(name="华南区", kind=OrgUnitKind.REGION, parent=company)
    north = OrgUnit.objects.create(name="华北区", kind=OrgUnitKind.REGION, parent=company)
    store_sz = OrgUnit.objects.create(
        name="深圳南山店",
        kind=OrgUnitKind.STORE,
        parent=south,
        province_code="440000",
        city_code="440300",
        district_code="440305",
    )
    store_bj = OrgUnit.objects.create(
        name="北京朝阳店",
        kind=OrgUnitKind.STORE,
        parent=north,
        province_code="110000",
        city_code="110100",
        district_code="110105",
    )
    return Org(service, quality, logistics, legal_dept, company, south, north, store_sz, store_bj)


def make_user(username: str, *memberships: tuple[str, Any], **extra: Any) -> User:
    from datetime import time

    extra.setdefault("work_start", time(0, 0))
    extra.setdefault("work_end", time(23, 59, 59))
    user = User.objects.create_user(
        username=username, password="pw-" + username, given_name=extra.pop("given", ""), **extra
    )
    for role, scope in memberships:
        Membership.objects.create(
            user=user,
            role=role,
            department=scope if isinstance(scope, Department) else None,
            org_unit=scope if isinstance(scope, OrgUnit) else None,
        )
    return user


@dataclass
class Cast:
    agent: User
    agent2: User
    supervisor: User
    quality_agent: User
    quality_supervisor: User
    handler: User
    legal: User
    manager: User
    analyst: User
    auditor: User
    admin: User
    outsider: User


@pytest.fixture
def cast(org: Org) -> Cast:
    return Cast(
        agent=make_user("agent", (Role.AGENT, org.service), given="王女士"),
        agent2=make_user("agent2", (Role.AGENT, org.service), given="李先生"),
        supervisor=make_user("supervisor", (Role.SUPERVISOR, org.service)),
        quality_agent=make_user("qagent", (Role.AGENT, org.quality)),
        quality_supervisor=make_user("qsupervisor", (Role.SUPERVISOR, org.quality)),
        handler=make_user("handler", (Role.DEPARTMENT_HANDLER, org.quality)),
        legal=make_user("legal", (Role.LEGAL_PR, None)),
        manager=make_user("manager", (Role.MANAGER, org.south)),
        analyst=make_user("analyst", (Role.ANALYST, None)),
        auditor=make_user("auditor", (Role.AUDITOR, None)),
        admin=make_user("admin", (Role.ADMIN, None), is_staff=True),
        outsider=make_user("outsider", (Role.AGENT, org.logistics)),
    )


class Api:
    """A client for the REST API as one persona (token auth), or anonymous."""

    def __init__(self, user: User | None = None, language: str = "zh-hans") -> None:
        self.client = Client(HTTP_ACCEPT_LANGUAGE=language)
        self.headers: dict[str, str] = {}
        if user is not None:
            # Far in the future: tests travel in time past retention periods (tokens expire by default).
            _, raw = ApiToken.issue(user, "tests", expires_at=datetime(2200, 1, 1, tzinfo=UTC))
            self.headers["Authorization"] = f"Bearer {raw}"

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any):  # type: ignore[no-untyped-def]
        return self.client.get("/api/v1" + path, params, headers={**self.headers, **(headers or {})})

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return self.client.post(
            "/api/v1" + path,
            body if body is not None else {},
            content_type="application/json",
            headers={**self.headers, **(headers or {})},
        )


@pytest.fixture
def api_as():  # type: ignore[no-untyped-def]
    return Api


def complaint_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "complainant_name": "张三",
        "complainant_phone": "138 0013 8000",
        "complainant_email": "Zhang.San@Example.com",
        "description": "购买的电热水壶使用三天后漏电，要求退款并赔偿。",
        "province_code": "440000",
        "city_code": "440300",
        "district_code": "440305",
        "category": "product_quality",
        "remedies_requested": ["refund", "compensation"],
        "amount_claimed": "500.00",
        "product_name": "电热水壶",
        "product_sku": "KT-1001",
    }
    body.update(overrides)
    return body


@pytest.fixture
def body():  # type: ignore[no-untyped-def]
    return complaint_body


class _Inbox:
    """Messages received by the loopback SMTP server, parsed."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's handler hook
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):  # type: ignore[no-untyped-def]
    """A real SMTP server (aiosmtpd) on loopback; Django's SMTP backend sends to it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


# Fixtures through which a test reaches a database (pytest-django's, and the blocker that
# session-scoped set-up uses).
_DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}


@pytest.hookimpl(tryfirst=True)  # before pytest-django's, whose stable sort keeps this order within its groups
def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """The long tests (marked slow) go first, so that the parallel processes of `make test` (xdist)
    do not end waiting on one that started last. pytest-django then groups the tests (plain database
    tests, then transactional ones, which empty the tables, then the rest); xdist's `load` schedule
    hands each process the tests in that order, so no process meets a plain test after emptied tables.

    `make test` runs the suite on SQLite, then on PostgreSQL. A test that touches no database runs
    the same code on the same input both times, so the PostgreSQL pass (COMPLAINTDESK_TESTS_DB_ONLY=1,
    set by `make test-postgres`) leaves it out: it ran, and passed, on the SQLite pass."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: the rest keep their order
    if os.environ.get("COMPLAINTDESK_TESTS_DB_ONLY") != "1":
        return
    keep, drop = [], []
    for item in items:
        uses_db = item.get_closest_marker("django_db") is not None or bool(_DB_FIXTURES & set(item.fixturenames))
        (keep if uses_db else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
