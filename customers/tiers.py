"""Value tier (客户等级) from the last 12 months of orders: spend and order count, each against the
thresholds in settings (COMPLAINTDESK_TIER_*); the highest tier reached by either wins. Amounts in
other currencies than CNY are left out of the spend (no exchange rates here) but counted as orders."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import TIER_ORDER, ValueTier
from .models import Customer, Order

WINDOW = timedelta(days=365)


@dataclass(frozen=True)
class Tier:
    tier: str
    spend: Decimal
    orders: int

    @property
    def label(self) -> str:
        return str(ValueTier(self.tier).label)

    @property
    def why(self) -> str:
        """E.g. "12 个月消费 ¥38,200，订单 14 笔 → 金卡"."""
        return _("12 个月消费 ¥%(spend)s，订单 %(n)d 笔 → %(tier)s") % {
            "spend": f"{self.spend:,.0f}",
            "n": self.orders,
            "tier": self.label,
        }


def thresholds() -> dict[str, tuple[Decimal, int]]:
    return {
        ValueTier.VIP: (Decimal(settings.COMPLAINTDESK_TIER_VIP_SPEND), settings.COMPLAINTDESK_TIER_VIP_ORDERS),
        ValueTier.GOLD: (Decimal(settings.COMPLAINTDESK_TIER_GOLD_SPEND), settings.COMPLAINTDESK_TIER_GOLD_ORDERS),
        ValueTier.SILVER: (
            Decimal(settings.COMPLAINTDESK_TIER_SILVER_SPEND),
            settings.COMPLAINTDESK_TIER_SILVER_ORDERS,
        ),
    }


def classify(spend: Decimal, orders: int) -> str:
    limits = thresholds()
    for tier in TIER_ORDER:
        min_spend, min_orders = limits[tier]
        if spend >= min_spend or orders >= min_orders:
            return str(tier)
    return str(ValueTier.STANDARD)


def _window(now: datetime | None) -> datetime:
    return (now or timezone.now()) - WINDOW


def tier_of(customer_id: int, now: datetime | None = None) -> Tier:
    """One aggregate query."""
    totals = Order.objects.filter(customer_id=customer_id, ordered_at__gte=_window(now)).aggregate(
        spend=Sum("amount", filter=Q(currency="CNY")), orders=Count("id")
    )
    spend = totals["spend"] or Decimal(0)
    return Tier(classify(spend, totals["orders"]), spend, totals["orders"])


def tiers_of(customer_ids: list[int], now: datetime | None = None) -> dict[int, Tier]:
    """The tiers of many customers in one query."""
    rows = (
        Order.objects.filter(customer_id__in=customer_ids, ordered_at__gte=_window(now))
        .values("customer_id")
        .annotate(spend=Sum("amount", filter=Q(currency="CNY")), orders=Count("id"))
    )
    found = {r["customer_id"]: (r["spend"] or Decimal(0), r["orders"]) for r in rows}
    result = {}
    for pk in customer_ids:
        spend, orders = found.get(pk, (Decimal(0), 0))
        result[pk] = Tier(classify(spend, orders), spend, orders)
    return result


def refresh(customer_ids: list[int], now: datetime | None = None) -> int:
    """Store the current tier on the customers (the cached Customer.value_tier). Returns how many changed."""
    today = timezone.localdate(now or timezone.now())
    changed = 0
    for pk, tier in tiers_of(customer_ids, now).items():
        changed += Customer.objects.filter(pk=pk).exclude(value_tier=tier.tier).update(value_tier=tier.tier)
    Customer.objects.filter(pk__in=customer_ids).update(tier_refreshed_on=today)
    return changed
