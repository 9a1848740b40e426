"""Cases of one person on real dates, and helpers for the privacy pages and the API."""

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
from ledger.models import LedgerEvent

CST = ZoneInfo("Asia/Shanghai")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CST)


def fresh(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_related("org_unit", "owner", "customer").get(pk=complaint.pk)


def new_case(body: Any, **overrides: Any) -> Complaint:
    complaint, _code = actions.submit(
        check_intake(IntakeData(**body(**overrides)), staff=False), actor=Actor.consumer()
    )
    return fresh(complaint)


def close_case(complaint: Complaint, cast: Any) -> Complaint:
    """Accept, start, resolve, reply and close, as the service department would."""
    supervisor, agent = Actor.staff(cast.supervisor), Actor.staff(cast.agent)
    complaint = actions.accept(complaint, actor=supervisor)
    if complaint.owner_id != cast.agent.pk:
        complaint = actions.assign(complaint, actor=supervisor, owner=cast.agent)
    complaint = actions.start_work(fresh(complaint), actor=agent)
    complaint = actions.resolve(complaint, actor=agent, outcome="executed", note="已为张三更换新品。")
    casework.send_reply(fresh(complaint), actor=agent, text="张三您好，已为您更换新品，如有问题请拨打 13800138000。")
    return fresh(actions.close(fresh(complaint), actor=agent, evidence_complete=True))


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def events(complaint: Complaint, action: str) -> list[LedgerEvent]:
    return list(LedgerEvent.objects.filter(complaint=complaint, action=action).order_by("seq"))


@pytest.fixture
def person(cast, body, org):  # type: ignore[no-untyped-def]
    """Two cases of 张三 (the same phone written two ways): one customer. The first was filed at the
    Shenzhen store, inside the manager's region (south), the second outside it: the manager reaches
    the person through the first."""
    first = new_case(body, org_unit=org.store_sz.pk)
    second = new_case(
        body, complainant_phone="+86 138-0013-8000", description="第二次投诉：热水壶又坏了，联系邮箱 zs@example.com。"
    )
    assert first.customer_id == second.customer_id is not None
    return first.customer, first, second
