"""Demo data: customer numbers, orders (some gold or VIP customers), service records, care actions."""

import random

from complaints import demo
from complaints.models import Complaint
from customers import demo as customers_demo
from customers.models import CareAction, Customer, Order, ServiceRecord
from ledger.verify import verify


def test_a_small_demo_gives_customers_orders_tiers_and_care_actions(db):
    demo.generate(count=40, seed=7)
    complaints = list(Complaint.objects.filter(is_demo=True).order_by("pk"))
    customers_demo.seed(complaints, random.Random(3))
    assert Order.objects.exists() and ServiceRecord.objects.exists()
    assert Customer.objects.filter(value_tier__in=["gold", "vip"]).exists()
    assert not Customer.objects.filter(complaint__isnull=False, customer_no="").exists()
    assert CareAction.objects.filter(automatic=False).count() == 1
    assert verify().ok  # care actions on the case chains keep them whole
    before = Order.objects.count()
    customers_demo.seed(complaints, random.Random(3))
    assert Order.objects.count() == before  # seeding twice adds nothing
