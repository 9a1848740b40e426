"""Cases on real dates, closed cases for the library, and clients for the pages and the API."""

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from casework import actions as casework
from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint

CST = ZoneInfo("Asia/Shanghai")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CST)


def new_case(body: Any, received_at: datetime | None = None, **overrides: Any) -> Complaint:
    complaint, _code = actions.submit(
        check_intake(IntakeData(**body(**overrides)), staff=False), actor=Actor.consumer()
    )
    if received_at is not None:
        Complaint.objects.filter(pk=complaint.pk).update(received_at=received_at)
    return Complaint.objects.get(pk=complaint.pk)


def closed_case(cast: Any, body: Any, capture: Any, **overrides: Any) -> Complaint:
    complaint = new_case(body, **overrides)
    sup = Actor.staff(cast.supervisor)
    complaint = actions.accept(complaint, actor=sup)
    if complaint.owner_id != cast.agent.pk:
        complaint = actions.assign(complaint, actor=sup, owner=cast.agent)
    agent = Actor.staff(cast.agent)
    complaint = actions.start_work(Complaint.objects.get(pk=complaint.pk), actor=agent)
    with capture(execute=True):
        resolved = actions.resolve(complaint, actor=agent, outcome="executed", note="已为张三更换新品。")
        casework.send_reply(resolved, actor=agent, text="张三您好，已为您更换新品，如有问题请拨打 400-800-1234。")
        actions.close(Complaint.objects.get(pk=complaint.pk), actor=agent, evidence_complete=True)
    return Complaint.objects.get(pk=complaint.pk)


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def patch(api: Any, path: str, payload: dict[str, Any]):  # type: ignore[no-untyped-def]
    return api.client.patch("/api/v1" + path, json.dumps(payload), content_type="application/json", headers=api.headers)


def fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def plan_body(**overrides: Any) -> dict[str, Any]:
    payload = {
        "title": "电热水壶漏电整改",
        "root_cause": "manufacturing",
        "action": "更换温控器供应商，出厂前全检绝缘。",
        "owner": "supervisor",
        "due_in_working_days": 10,
        "expected_effect": "漏电投诉减少一半",
        "expected_reduction": 50,
        "category": "product_quality",
        "product_sku": "KT-1001",
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def capture(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    return django_capture_on_commit_callbacks
