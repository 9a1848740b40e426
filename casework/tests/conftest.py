"""A case in progress in the 深圳南山店, owned by the service agent; the same case resolved (remedy
executed); helpers for the API and the case page."""

from typing import Any

import pytest
from django.test import Client

from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint


def case_in_progress(cast: Any, body: Any, **overrides: Any) -> Complaint:
    complaint, _ = actions.submit(check_intake(IntakeData(**body(**overrides)), staff=False), actor=Actor.consumer())
    sup = Actor.staff(cast.supervisor)
    complaint = actions.accept(complaint, actor=sup)
    if complaint.owner_id != cast.agent.pk:
        complaint = actions.assign(complaint, actor=sup, owner=cast.agent)
    complaint = actions.start_work(complaint, actor=Actor.staff(cast.agent))
    return fresh(complaint)


def fresh(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_related("org_unit").get(pk=complaint.pk)


def resolve(complaint: Complaint, user: Any) -> Complaint:
    return actions.resolve(complaint, actor=Actor.staff(user), outcome="executed", note="已为您更换新品。")


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(user: Any, complaint: Complaint) -> str:
    return logged_in(user).get(f"/staff/cases/{complaint.tracking_no}/").content.decode()


@pytest.fixture
def case(cast, body, org):  # type: ignore[no-untyped-def]
    return case_in_progress(cast, body, org_unit=org.store_sz.pk)


@pytest.fixture
def resolved(cast, case):  # type: ignore[no-untyped-def]
    return fresh(resolve(case, cast.agent))
