"""Complaints of one customer (张三, +8613800138000) in the 深圳南山店 and helpers for orders and pages."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from customers.models import Customer, Order


def submit(body: Any, **overrides: Any) -> Complaint:
    complaint, _code = actions.submit(
        check_intake(IntakeData(**body(**overrides)), staff=False), actor=Actor.consumer()
    )
    return Complaint.objects.select_related("org_unit", "customer").get(pk=complaint.pk)


def orders(customer: Customer, n: int, amount: str, *, days_ago: int = 10, prefix: str = "SO") -> None:
    now = timezone.now()
    for i in range(n):
        Order.objects.create(
            customer=customer,
            order_no=f"{prefix}{i:04d}",
            ordered_at=now - timedelta(days=days_ago, minutes=i),
            product_name="空气净化器",
            amount=Decimal(amount),
        )


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def case(cast, body, org):  # type: ignore[no-untyped-def]
    """张三's complaint at the 深圳南山店, accepted (the service department) and owned by the agent."""
    complaint = submit(body, org_unit=org.store_sz.pk)
    sup = Actor.staff(cast.supervisor)
    complaint = actions.accept(complaint, actor=sup)
    if complaint.owner_id != cast.agent.pk:
        complaint = actions.assign(complaint, actor=sup, owner=cast.agent)
    return Complaint.objects.select_related("org_unit", "customer").get(pk=complaint.pk)


@pytest.fixture
def customer(case):  # type: ignore[no-untyped-def]
    return case.customer
