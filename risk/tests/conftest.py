"""Cases received on real dates (Asia/Shanghai), their analytics facts, and the risk scenario most
tests share: two products in two stores handled by two departments, assessed on 2026-06-10 over a
30-day window (2026-05-11 – 2026-06-09; the window before: 2026-04-11 – 2026-05-10)."""

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.choices import Role
from analytics import rollups
from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from conftest import make_user

CST = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 6, 10)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CST)


def filed(body: Any, when: datetime, **overrides: Any) -> Complaint:
    """A case received at `when` (the intake runs under a frozen clock)."""
    with time_machine.travel(when, tick=False):
        complaint, _code = actions.submit(
            check_intake(IntakeData(**body(**overrides)), staff=True), actor=Actor.consumer()
        )
    return complaint


def set_fields(complaint: Complaint, **fields: Any) -> Complaint:
    """Test data: states, flags and levels written directly (the lifecycle has its own tests)."""
    Complaint.objects.filter(pk=complaint.pk).update(**fields)
    return Complaint.objects.get(pk=complaint.pk)


_serial = itertools.count(1)


def copies(template: Complaint, *specs: tuple[datetime, dict[str, Any]]) -> list[Complaint]:
    """Copies of a real intake's case, each with its own tracking number, receipt time and fields, in one
    insert (a few dozen intakes would take a second per test). Their facts come from refresh_facts."""
    rows = []
    for received_at, fields in specs:
        row = Complaint.objects.get(pk=template.pk)
        row.pk = None
        row.tracking_no = f"TS{timezone.localtime(received_at, CST):%Y%m%d}-{900000 + next(_serial):06d}"
        row.received_at = received_at
        for name, value in fields.items():
            setattr(row, name, value)
        rows.append(row)
    return Complaint.objects.bulk_create(rows)


def refresh_facts() -> None:
    """The analytics facts and rollups of every case (copies have no ledger events for the job to see)."""
    days = rollups.refresh_cases({pk: 0 for pk in Complaint.objects.values_list("pk", flat=True)})
    rollups.rebuild_days(days)


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@dataclass
class Scenario:
    quality_cases: list[Complaint]  # KT-1001, 深圳南山店 (south), quality department
    service_cases: list[Complaint]  # KT-2002, 北京朝阳店 (north), service department
    lone: Complaint  # KT-3003: one case, not assessed
    north_manager: Any
    top_manager: Any


@pytest.fixture
def scenario(cast, org, body, settings) -> Scenario:  # type: ignore[no-untyped-def]
    """KT-1001: 6 cases in the window (3 of them flagged or escalated), 2 in the window before.
    KT-2002: 5 cases in the window (one resolved in 17 working hours), none flagged, 5 before.
    KT-3003: 1 case."""
    settings.COMPLAINTDESK_RISK_WINDOW_DAYS = 30
    first = set_fields(
        filed(body, at(2026, 5, 12, 10), org_unit=org.store_sz.pk, product_sku="KT-1001"), department=org.quality
    )
    south = {"org_unit": org.store_sz, "product_sku": "KT-1001", "department": org.quality}
    north = {"org_unit": org.store_bj, "product_sku": "KT-2002", "department": org.service}
    quality = [
        first,
        *copies(
            first,
            (at(2026, 5, 15, 10), {**south, "risk_flags": ["repeat"]}),
            (at(2026, 5, 20, 10), {**south, "escalation_level": 1}),
            (at(2026, 5, 25, 10), south),
            (at(2026, 5, 30, 10), south),
            (at(2026, 6, 2, 10), south),
        ),
    ]
    copies(first, (at(2026, 4, 20, 10), south), (at(2026, 4, 25, 10), south))
    service = copies(first, *((at(2026, 5, day, 11), north) for day in (13, 16, 19, 22, 28)))
    copies(first, *((at(2026, 4, day, 11), north) for day in (13, 16, 19, 22, 28)))
    # Resolved two days after receipt: 6.5 + 8.5 + 2 = 17 working hours (09:00–17:30, Wed–Fri).
    service[0] = set_fields(service[0], status="resolved", resolved_at=at(2026, 5, 15, 11), outcome="executed")
    (lone,) = copies(first, (at(2026, 6, 1, 9), {**north, "product_sku": "KT-3003"}))
    set_fields(first, risk_flags=["legal"], risk_legal_media_safety=True)  # after the copies: its own
    refresh_facts()
    return Scenario(
        quality_cases=[Complaint.objects.get(pk=c.pk) for c in quality],
        service_cases=service,
        lone=lone,
        north_manager=make_user("nmanager", (Role.MANAGER, org.north)),
        top_manager=make_user("topmanager", (Role.MANAGER, org.company)),
    )
