"""Cases received on real dates (Asia/Shanghai) for the exports and reports."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Category, Complaint

CST = ZoneInfo("Asia/Shanghai")


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
    """Test data: states and dates written directly (the lifecycle has its own tests)."""
    Complaint.objects.filter(pk=complaint.pk).update(**fields)
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
