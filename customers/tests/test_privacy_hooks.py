"""What CustomersConfig gives the privacy app: a person's data for export, and erasure of free text."""

import pytest
from django.apps import apps
from django.utils import timezone

from complaints.ledgering import Actor
from customers.actions import create_care_action, set_id_number
from customers.models import CareAction, Order, ServiceRecord

from .conftest import orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(cast, case):  # type: ignore[no-untyped-def]
    customer = case.customer
    set_id_number(customer, "11010519491231002X")
    orders(customer, 2, "100")
    ServiceRecord.objects.create(
        customer=customer, kind="repair", occurred_at=timezone.now(), reference="SR-1", description="张三家中漏水"
    )
    care = create_care_action(
        customer,
        actor=Actor.staff(cast.agent),
        kind="visit",
        due_at=timezone.now(),
        assignee=cast.agent,
        note="上门致歉",
    )
    return customer, care


def test_personal_data_holds_the_profile_orders_service_records_care_actions_tier_and_churn(person):
    customer, care = person
    data = apps.get_app_config("customers").personal_data(customer)
    assert data["customer"]["id_number"] == "11010519491231002X"
    assert data["customer"]["phone"] == "+8613800138000"
    assert sorted(o["order_no"] for o in data["orders"]) == ["SO0000", "SO0001"]
    assert data["orders"][0]["amount"] == "100.00"
    assert data["service_records"] == [
        {
            "reference": "SR-1",
            "kind": "repair",
            "occurred_at": ServiceRecord.objects.get().occurred_at.isoformat(),
            "product": "",
            "description": "张三家中漏水",
            "source": "",
        }
    ]
    assert [c["id"] for c in data["care_actions"]] == [care.pk] and data["care_actions"][0]["note"] == "上门致歉"
    assert data["value_tier"]["tier"] == "standard" and data["value_tier"]["orders_12m"] == 2
    assert data["churn_risk"]["score"] == 15 and {f["code"] for f in data["churn_risk"]["factors"]} == {
        "recent",
        "open",
    }


def test_erasure_blanks_free_text_and_the_id_number_but_keeps_order_amounts(person):
    customer, care = person
    apps.get_app_config("customers").erase_personal(customer)
    customer.refresh_from_db()
    assert customer.id_number == ""
    assert ServiceRecord.objects.get().description == ""
    care.refresh_from_db()
    assert care.note == "" and care.reason == ""
    assert sorted(Order.objects.values_list("amount", flat=True)) == [100, 100]
    assert CareAction.objects.count() == 1
