"""Totals per case and per period, for analytics: what was authorised and what was paid, by kind and
currency."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from complaints.ledgering import Actor
from resolutions import actions
from resolutions.selectors import totals_for_period


def test_totals_for_a_period_count_authorised_and_paid_remedies(cast, case, org):
    agent, supervisor = Actor.staff(cast.agent), Actor.staff(cast.supervisor)
    within = actions.add_remedy(case, actor=agent, kind="compensation", amount="150")
    approved = actions.add_remedy(case, actor=agent, kind="compensation", amount="900")
    actions.approve_remedy(approved, actor=supervisor, comment="同意")
    actions.add_remedy(case, actor=agent, kind="compensation", amount="1900")  # pending: not counted
    rejected = actions.add_remedy(case, actor=agent, kind="goodwill", amount="700", description="券")
    actions.reject_remedy(rejected, actor=supervisor, comment="不同意")
    actions.mark_remedy_paid(within, actor=agent, reference="TX-1")
    now = timezone.now()
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    totals = totals_for_period(start, end)
    assert [(r["kind"], r["currency"], r["total"], r["count"]) for r in totals["authorised"]] == [
        ("compensation", "CNY", Decimal("1050.00"), 2)
    ]
    assert [(r["kind"], r["total"]) for r in totals["paid"]] == [("compensation", Decimal("150.00"))]
    assert totals_for_period(end, end + timedelta(days=1)) == {"authorised": [], "paid": []}
    assert totals_for_period(start, end, department=org.logistics)["authorised"] == []
    assert totals_for_period(start, end, org_unit=org.store_sz, kind="compensation")["paid"][0]["count"] == 1
    with pytest.raises(TypeError):
        totals_for_period(start, end, complainant_name="x")
