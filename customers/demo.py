"""Demo data for customer profiles: customer numbers, orders and service records for the demo
customers (a few of them gold or VIP), and a couple of care actions — one by the rule, one by hand.

complaints' seed_demo calls `seed(complaints, rng)` (DEMO_SEEDS) with the after-event hooks off."""

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.choices import Role
from accounts.models import Membership
from complaints.calendar import add_working_days
from complaints.ledgering import Actor

from . import actions, care, tiers
from .choices import CareKind, ServiceKind
from .models import Customer, Order, ServiceRecord

_PRODUCTS = [
    ("电热水壶 KT-1001", "KT-1001", Decimal("199.00")),
    ("空气净化器 AP-300", "AP-300", Decimal("2399.00")),
    ("滚筒洗衣机 WM-8", "WM-8", Decimal("4599.00")),
    ("智能手机 X20", "PH-X20", Decimal("3999.00")),
    ("笔记本电脑 Pro14", "NB-P14", Decimal("8999.00")),
    ("冰箱 RF-520", "RF-520", Decimal("6799.00")),
]
_STORES = ["线上旗舰店", "深圳南山店", "北京朝阳店", "京东自营", "天猫旗舰店"]
_SERVICE = [
    (ServiceKind.REPAIR, "上门维修：更换温控器。"),
    (ServiceKind.INSTALLATION, "送货并安装，客户签字确认。"),
    (ServiceKind.MAINTENANCE, "年度保养：清洗滤网。"),
    (ServiceKind.RETURN, "七天无理由退货，已退款。"),
]


def seed(complaints: list[Any], rng: random.Random) -> None:
    ids = sorted({c.customer_id for c in complaints if c.customer_id})
    customers = list(Customer.objects.filter(pk__in=ids).order_by("pk"))
    if not customers or Order.objects.filter(customer__in=customers).exists():
        return
    now = timezone.now()
    for n, customer in enumerate(customers):
        if not customer.customer_no:
            customer.customer_no = f"M{100000 + customer.pk}"
            customer.save(update_fields=["customer_no"])
        # Every fifth a big spender (VIP or gold), the rest a few orders or none.
        count = rng.choice([14, 32]) if n % 5 == 0 else rng.randint(0, 4)
        for i in range(count):
            name, sku, price = rng.choice(_PRODUCTS)
            quantity = rng.randint(1, 3)
            Order.objects.create(
                customer=customer,
                order_no=f"SO{customer.pk:05d}{i:03d}",
                ordered_at=now - timedelta(days=rng.randint(1, 400), hours=rng.randint(0, 23)),
                product_name=name,
                product_sku=sku,
                quantity=quantity,
                amount=price * quantity,
                channel=rng.choice(_STORES),
                source="demo",
            )
        for i in range(rng.randint(0, 2)):
            kind, text = rng.choice(_SERVICE)
            ServiceRecord.objects.create(
                customer=customer,
                kind=kind,
                occurred_at=now - timedelta(days=rng.randint(1, 300)),
                product=rng.choice(_PRODUCTS)[0],
                description=text,
                reference=f"SR{customer.pk:05d}{i:02d}",
                source="demo",
            )
    tiers.refresh([c.pk for c in customers])
    _care_actions(complaints, now)


def _care_actions(complaints: list[Any], now: Any) -> None:
    """The rule over the demo cases of valued customers (a few manager calls), and one by hand."""
    made = 0
    for complaint in complaints:
        if complaint.customer_id and care.apply_rule(complaint.pk, "classify") is not None:
            made += 1
            if made >= 3:
                break
    # One by hand: a supervisor to a valued customer whose case they see (an assignee must).
    supervisors = [
        m.user for m in Membership.objects.filter(role=Role.SUPERVISOR).select_related("user").order_by("pk")
    ]
    for valued in Customer.objects.filter(value_tier__in=["gold", "vip"]).order_by("pk")[:20]:
        manager = next((u for u in supervisors if not actions.assignee_problem(u, valued)), None)
        if manager is not None:
            actions.create_care_action(
                valued,
                actor=Actor.staff(manager),
                kind=CareKind.GIFT,
                due_at=add_working_days(now, 3),
                assignee=manager,
                note="寄送会员节礼品卡，感谢长期支持。",
            )
            return
