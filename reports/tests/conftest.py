"""Cases received on real dates (Asia/Shanghai) for the exports and reports."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db.models import Max
from django.test import Client

from analytics import rollups
from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Category, Complaint
from ledger.models import LedgerEvent

CST = ZoneInfo("Asia/Shanghai")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CST)


def filed(body: Any, when: datetime, **overrides: Any) -> Complaint:
    """A case received at `when` (the intake runs under a frozen clock); the report figures come from
    the analytics rollups, which the rollups job brings up to date from the intake's ledger event."""
    with time_machine.travel(when, tick=False):
        complaint, _code = actions.submit(
            check_intake(IntakeData(**body(**overrides)), staff=True), actor=Actor.consumer()
        )
    rollups.catch_up()
    return complaint


def set_fields(complaint: Complaint, **fields: Any) -> Complaint:
    """Test data: states and dates written directly (the lifecycle has its own tests). No ledger event
    says so, so the case's analytics facts are refreshed here, as the job would after a real action."""
    Complaint.objects.filter(pk=complaint.pk).update(**fields)
    latest = LedgerEvent.objects.filter(complaint_id=complaint.pk).aggregate(seq=Max("seq"))["seq"] or 0
    rollups.rebuild_days(rollups.refresh_cases({complaint.pk: latest}))
    return Complaint.objects.get(pk=complaint.pk)


def category(code: str) -> Category:
    return Category.objects.get(code=code)


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two_stores(cast, body, org):  # type: ignore[no-untyped-def]
    """One case in the south (in the manager's scope, service department) and one in the north."""
    south = filed(body, at(2026, 10, 5, 10), org_unit=org.store_sz.pk)
    north = filed(
        body,
        at(2026, 10, 6, 10),
        org_unit=org.store_bj.pk,
        complainant_name="李四",
        complainant_phone="139 0013 9000",
        complainant_email="li.si@example.com",
    )
    set_fields(south, department=org.service)
    set_fields(north, department=org.logistics)
    return south, north
