"""Sales volume: the orders and revenue behind the complaint rate (complaints per 10,000 orders) and the
rights-protection cost ratio ((compensation + handling cost) / revenue), DESIGN.md §8.

Figures come in at one level per key: a row names a day (a month's figure on its first day), an org
unit or none (the whole organisation), and a product or none (every product). A question is answered
at the most specific level that has figures, never adding a total to its own parts:
- a product asked for: that product's rows; none asked: the rows without a product when the period
  has any, else the sum of the per-product rows;
- an org unit asked for: the rows of units in its subtree; none asked: the rows without a unit when
  the period has any, else the sum of the per-unit rows.
A reader scoped to some org units (a manager) counts only the rows of those units.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Q, Sum

from .models import SalesVolume

if TYPE_CHECKING:
    from .filters import Filters


@dataclass(frozen=True)
class Sales:
    orders: int | None  # None: no figures for the question
    revenue: Decimal | None  # None: no revenue figures for the question

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

    rows = SalesVolume.objects.filter(date__gte=filters.date_from, date__lte=filters.date_to)
    if filters.product:
        rows = rows.filter(product=filters.product)
    elif rows.filter(product="").exists():
        rows = rows.filter(product="")
    if filters.org_unit is not None:
        path = OrgUnit.objects.filter(pk=filters.org_unit).values_list("path", flat=True).first() or "\0"
        rows = rows.filter(org_unit__path__startswith=path)
    elif filters.scope_unit_paths is None and rows.filter(org_unit__isnull=True).exists():
        rows = rows.filter(org_unit__isnull=True)
    if filters.scope_unit_paths is not None:
        scope = Q(pk__in=[])
        for path in filters.scope_unit_paths:
            scope |= Q(org_unit__path__startswith=path)
        rows = rows.filter(scope)
    found = rows.aggregate(n=Count("pk"), orders=Sum("orders"), revenue=Sum("revenue"), with_revenue=Count("revenue"))
    if not found["n"]:
        return Sales(orders=None, revenue=None)
    return Sales(
        orders=int(found["orders"] or 0),
        revenue=found["revenue"] if found["with_revenue"] else None,
    )
