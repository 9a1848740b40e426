"""The effect of a completed plan: the complaint rate of its scope in equal windows before and after
completion, compared by the exact conditional test for two Poisson rates.

Under "no change", of the n = before + after complaints each falls in the after window with probability
exposure_after / (exposure_before + exposure_after); scipy's binomtest gives the two-sided p-value.
Exposure is the number of orders (customers.Order, matched on the plan's SKU) only when the plan's scope
is the SKU alone and orders exist in both windows: orders carry no category or org unit, so a plan
also scoped by those would set that slice's complaints against the whole company's orders. Otherwise
the exposure is the window's days (equal windows: p = 1/2). Rates and the change are computed exactly;
only the figures returned for display are rounded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

SIGNIFICANCE = 0.05


def window_weeks() -> int:
    return int(getattr(settings, "COMPLAINTDESK_IMPROVEMENT_EFFECT_WEEKS", 8))


def scope_q(plan: Any) -> Q:
    query = Q()
    if plan.category_id:
        query &= Q(category_id=plan.category_id) | Q(subcategory_id=plan.category_id)
    if plan.product_sku:
        query &= Q(product_sku=plan.product_sku)
    if plan.org_unit_id:
        query &= Q(org_unit__path__startswith=plan.org_unit.path)
    return query


def _count(plan: Any, start: datetime, end: datetime) -> int:
    from complaints.models import Complaint

    return (
        Complaint.objects.filter(scope_q(plan), received_at__gte=start, received_at__lt=end)
        .exclude(status="merged")
        .count()
    )


def _orders(sku: str, start: datetime, end: datetime) -> int:
    from customers.models import Order

    return Order.objects.filter(product_sku=sku, ordered_at__gte=start, ordered_at__lt=end).count()


def binomial_p(before: int, after: int, share_after: float) -> float:
    from scipy.stats import binomtest

    if before + after == 0:
        return 1.0
    return float(binomtest(after, before + after, share_after, alternative="two-sided").pvalue)


def measure(plan: Any, now: datetime | None = None) -> dict[str, Any] | None:
    """None before completion; otherwise the windows, counts, rates, change, p-value and a sentence."""
    if plan.completed_at is None:
        return None
    now = now or timezone.now()
    weeks = window_weeks()
    span = timedelta(weeks=weeks)
    done = plan.completed_at
    before_start, after_end = done - span, done + span
    complete = now >= after_end
    before = _count(plan, before_start, done)
    after = _count(plan, done, min(now, after_end))
    result: dict[str, Any] = {
        "weeks": weeks,
        "before_start": before_start,
        "completed_at": done,
        "after_end": after_end,
        "complete": complete,
        "before": before,
        "after": after,
        "unit": "day",
        "rate_before": None,
        "rate_after": None,
        "change_percent": None,
        "p_value": None,
        "significant": False,
        "sentence": "",
    }
    if not complete:
        days_left = (after_end - now).days + 1
        result["sentence"] = _("观察窗口尚未结束（还需约 %(days)s 天），完成后显示效果检验。") % {"days": days_left}
        return result
    exposure_before = exposure_after = float(span.days)
    if plan.product_sku and not plan.category_id and not plan.org_unit_id:
        orders_before = _orders(plan.product_sku, before_start, done)
        orders_after = _orders(plan.product_sku, done, after_end)
        if orders_before and orders_after:
            exposure_before, exposure_after = float(orders_before), float(orders_after)
            result.update(unit="10000_orders", orders_before=orders_before, orders_after=orders_after)
    scale = 10_000.0 if result["unit"] == "10000_orders" else 1.0
    rate_before = before / exposure_before * scale
    rate_after = after / exposure_after * scale
    result["rate_before"] = round(rate_before, 4)
    result["rate_after"] = round(rate_after, 4)
    if before == 0 and after == 0:
        result["sentence"] = _("前后两个窗口内都没有该范围的投诉，无法衡量效果。")
        return result
    p_value = binomial_p(before, after, exposure_after / (exposure_before + exposure_after))
    result["p_value"] = round(p_value, 4)
    shown_p = f"{p_value:.3f}" if p_value >= 0.001 else "< 0.001"
    if rate_before:
        change = (rate_after / rate_before - 1) * 100
        result["change_percent"] = round(change, 1)
    else:
        change = None
    significant = p_value < SIGNIFICANCE
    result["significant"] = significant
    if not significant:
        result["sentence"] = _("尚不能确认效果（p = %(p)s）") % {"p": shown_p}
    elif change is not None and change < 0:
        result["sentence"] = _("投诉率下降 %(pct)s%%（p = %(p)s），效果显著") % {"pct": round(-change), "p": shown_p}
    else:
        pct = round(change) if change is not None else "∞"
        result["sentence"] = _("投诉率上升 %(pct)s%%（p = %(p)s），未见改进效果") % {"pct": pct, "p": shown_p}
    return result
