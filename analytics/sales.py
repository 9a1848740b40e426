"""Sales volume: the orders and revenue behind the complaint rate (complaints per 10,000 orders) and the
rights-protection cost ratio ((compensation + handling cost) / revenue), DESIGN.md §8.

Figures come in at one level per key: a row names a day (a month's figure on its first day), an org
unit or none (the whole organisation), and a product or none (every product). A question is answered
from the rows that match it, never adding a total to its own parts: a row is left out when another
matching row of the same day covers it — a row without a product covers the same unit's per-product
rows, and a row of an org unit (or without one: the whole organisation) covers the rows of the units
below it. So, day by day:
- a product asked for: that product's rows; none asked: the rows without a product where a day has
  them, else the sum of that day's per-product rows;
- an org unit asked for: the rows of units in its subtree, the highest level each day has; none
  asked: the rows without a unit where a day has them, else the sum of that day's per-unit rows.
A reader scoped to some org units (a manager) counts only the rows of those units.
Figures come at one granularity, days or months (a month's figure is stored on its 1st, like a day's):
a month's figure and daily figures of the same key in that month would be added together, and a
month's organisation figure covers only the rows of the 1st, not a unit's daily rows of that month.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Length, Substr

from .models import SalesVolume

if TYPE_CHECKING:
    from .filters import Filters


@dataclass(frozen=True)
class Sales:
    orders: int | None  # None: no figures for the question
    revenue: Decimal | None  # None: no revenue figures for the question, or only for part of it

    def complaint_rate(self, complaints: int) -> float | None:
        """Complaints per 10,000 orders, or None when the orders are unknown or zero."""
        if not self.orders:
            return None
        return complaints * 10_000 / self.orders

    def cost_ratio(self, cost: Decimal) -> float | None:
        """Compensation plus handling cost over revenue, or None when revenue is unknown or zero."""
        if not self.revenue:
            return None
        return float(cost / self.revenue)


def totals(filters: "Filters") -> Sales:
    """Orders and revenue for the filters' period, org unit, product and scope (the other filters,
    category, channel, priority and department, do not divide sales and are ignored)."""
    from accounts.models import OrgUnit

    if filters.scope_unit_paths is not None and not filters.scope_unit_paths:
        return Sales(orders=None, revenue=None)  # a reader scoped to no org unit sees no sales rows
    match = Q(date__gte=filters.date_from, date__lte=filters.date_to)
    if filters.product:
        match &= Q(product=filters.product)
    if filters.org_unit is not None:
        path = OrgUnit.objects.filter(pk=filters.org_unit).values_list("path", flat=True).first() or "\0"
        match &= Q(org_unit__path__startswith=path)
    if filters.scope_unit_paths is not None:
        scope = Q()
        for path in filters.scope_unit_paths:
            scope |= Q(org_unit__path__startswith=path)
        match &= scope
    # Another matching row of the same day that covers this one: every product (or the same product),
    # and the whole organisation or an org unit at or above this row's unit (its path a prefix of ours).
    covering = (
        SalesVolume.objects.filter(match, date=OuterRef("date"))
        .exclude(pk=OuterRef("pk"))
        .filter(Q(product="") | Q(product=OuterRef("product")))
        .filter(
            Q(org_unit__isnull=True) | Q(org_unit__path=Substr(OuterRef("org_unit__path"), 1, Length("org_unit__path")))
        )
    )
    rows = SalesVolume.objects.filter(match).filter(~Exists(covering))
    # Aliases unlike the fields: an aggregate named "revenue" would hide the field from Count("revenue").
    found = rows.aggregate(
        n=Count("pk"), total_orders=Sum("orders"), total_revenue=Sum("revenue"), with_revenue=Count("revenue")
    )
    if not found["n"]:
        return Sales(orders=None, revenue=None)
    # Revenue is known only when every row counted holds it: a sum over the rows that happen to have
    # it would be part of the revenue, and the cost ratio over it too high.
    return Sales(
        orders=int(found["total_orders"] or 0),
        revenue=found["total_revenue"] if found["with_revenue"] == found["n"] else None,
    )
