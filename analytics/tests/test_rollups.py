"""The rollups agree exactly with direct queries on the complaints, after a seeded random mix of
intakes, transitions, remedies, escalations, reopenings, merges and survey answers: every table
(CaseFact, DailyRollup and every DailySlice), and the figures whichever table the selectors pick."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from analytics import rollups, selectors
from analytics.filters import Filters
from analytics.models import (
    HANDLING_EDGES,
    CaseFact,
    DailyRollup,
    DailySlice,
    HandlingRollup,
    RollupCursor,
    handling_bucket,
)
from analytics.selectors import breakdown, kpis
from complaints import calendar
from complaints.choices import Status
from complaints.models import Complaint
from ledger.models import LedgerEvent

from .conftest import DAYS, START, _local, direct_cases, direct_kpis

FIRST = START.date()
LAST = FIRST + timedelta(days=DAYS - 1)


def _whole() -> Filters:
    return Filters(date_from=FIRST, date_to=LAST)


def _run_mix(mix, rounds: int, catch_up_every: int | None = None) -> None:  # type: ignore[no-untyped-def]
    mix.intake(30)
    for i in range(rounds):
        mix.advance()
        if catch_up_every and i % catch_up_every == 0:
            rollups.catch_up()


def test_the_mix_reaches_every_kind_of_event(mix):  # type: ignore[no-untyped-def]
    _run_mix(mix, rounds=7)
    actions = set(LedgerEvent.objects.values_list("action", flat=True))
    assert {
        "receive",
        "accept",
        "assign",
        "start_work",
        "resolve",
        "close",
        "reopen",
        "merge",
        "answer_survey",
    } <= actions
    assert {"escalate", "mark_remedy_paid"} <= actions
    assert Complaint.objects.filter(status=Status.MERGED).exists()


def _same(figures: dict[str, Any], direct: dict[str, Any]) -> bool:
    return {k: figures[k] for k in direct} == direct


@pytest.mark.parametrize("catch_up_every", [None, 2])
def test_every_kpi_agrees_exactly_with_direct_queries(mix, org, catch_up_every, monkeypatch):  # type: ignore[no-untyped-def]
    _run_mix(mix, rounds=7, catch_up_every=catch_up_every)
    rollups.catch_up()
    assert _same(kpis(_whole()), direct_kpis(direct_cases(FIRST, LAST)))
    part = Filters(date_from=FIRST + timedelta(days=3), date_to=FIRST + timedelta(days=7))
    assert _same(kpis(part), direct_kpis(direct_cases(part.date_from, part.date_to)))
    # Every way the selectors answer: the total, one- and two-dimension slices, DailyRollup (a product
    # filter), CaseFact (three dimensions), and the readers' scopes.
    cases: list[tuple[dict[str, Any], dict[str, Any], tuple[str, ...] | None]] = [
        ({"department": "service"}, {"department__code": "service"}, ("department",)),
        ({"category": "product_quality"}, {"category__code": "product_quality"}, ("category",)),
        ({"category": "product_quality-defect"}, {"subcategory__code": "product_quality-defect"}, ("subcategory",)),
        ({"org_unit": org.south.pk}, {"org_unit__path__startswith": org.south.path}, ("org_unit",)),
        ({"org_unit": org.company.pk, "channel": "phone"}, {"org_unit__isnull": False, "channel": "phone"}, None),
        ({"category": "service", "priority": "P3"}, {"category__code": "service", "priority": "P3"}, None),
        ({"product": "KT-1001"}, {"product_sku": "KT-1001"}, ("product",)),
        (
            {"product": "KT-2002", "org_unit": org.company.pk},
            {"product_sku": "KT-2002", "org_unit__isnull": False},
            None,
        ),
        (
            {"category": "delivery", "channel": "wechat", "department": "service"},
            {"category__code": "delivery", "channel": "wechat", "department__code": "service"},
            None,
        ),
    ]
    for params, where, expected_slice in cases:
        filters = Filters(date_from=FIRST, date_to=LAST, **params)
        plan = selectors._plan(filters)
        if expected_slice is not None:
            assert plan is not None and plan[0] == expected_slice, params
        assert _same(kpis(filters), direct_kpis(direct_cases(FIRST, LAST, **where))), params
    fine = Filters(date_from=FIRST, date_to=LAST, product="KT-1001", org_unit=org.company.pk)
    assert selectors._plan(fine) is None and selectors.use_rollup(fine)  # DailyRollup
    three = Filters(date_from=FIRST, date_to=LAST, category="delivery", channel="wechat", department="service")
    assert selectors._plan(three) is None and not selectors.use_rollup(three)  # CaseFact
    manager = _whole().scoped(mix.cast.manager)  # the south
    assert selectors._plan(manager)[0] == ("org_unit",)
    assert _same(kpis(manager), direct_kpis(direct_cases(FIRST, LAST, org_unit__path__startswith=org.south.path)))
    supervisor = _whole().scoped(mix.cast.supervisor)  # the service department
    assert selectors._plan(supervisor)[0] == ("department",)
    assert _same(kpis(supervisor), direct_kpis(direct_cases(FIRST, LAST, department__code="service")))
    # The p90 read from one bucket (what a large period does) is the same nearest-rank value.
    monkeypatch.setattr(selectors, "EXACT_PERCENTILE_MAX", 0)
    for filters, where in ((_whole(), {}), (manager, {"org_unit__path__startswith": org.south.path})):
        direct = direct_kpis(direct_cases(FIRST, LAST, **where))
        figures = kpis(filters)
        assert direct["handling_hours_working_p90"] is not None
        assert figures["handling_hours_working_p90"] == direct["handling_hours_working_p90"]
        assert figures["handling_hours_calendar_p90"] == direct["handling_hours_calendar_p90"]


def test_every_dimension_agrees_exactly_with_direct_queries(mix, org):  # type: ignore[no-untyped-def]
    _run_mix(mix, rounds=7)
    rollups.catch_up()
    whole = _whole()
    cases = direct_cases(FIRST, LAST)
    dims = {
        "category": lambda c: c.category_id,
        "subcategory": lambda c: c.subcategory_id,
        "product": lambda c: c.product_sku or c.product_model or c.product_name,
        "org_unit": lambda c: c.org_unit_id,
        "region": lambda c: c.province_code or c.us_state,
        "channel": lambda c: c.channel,
        "priority": lambda c: c.priority,
        "department": lambda c: c.department_id,
        "owner": lambda c: c.owner_id,
    }
    for dimension, key_of in dims.items():
        rows = breakdown(whole, dimension, limit=100)
        expected = {}
        for key in {key_of(c) for c in cases}:
            expected[key] = direct_kpis([c for c in cases if key_of(c) == key])
        assert {r["key"] for r in rows} == set(expected), dimension
        for row in rows:
            want = expected[row["key"]]
            for name in (
                "received",
                "ack_timeliness",
                "resolution_timeliness",
                "resolution_rate",
                "reopen_rate",
                "satisfaction_rate",
                "escalations",
                "compensation_paid",
                "handling_hours_working_mean",
            ):
                assert row[name] == want[name], (dimension, row["key"], name)
    by_day = {r["key"]: r["received"] for r in breakdown(whole, "date")}
    assert len(by_day) == DAYS  # the empty days too
    for offset in range(DAYS):
        day = FIRST + timedelta(days=offset)
        assert by_day[day.isoformat()] == len(direct_cases(day, day))
    by_month = breakdown(whole, "month")
    assert [r["key"] for r in by_month] == ["2026-03"] and by_month[0]["received"] == len(cases)
    assert sum(r["received"] for r in breakdown(whole, "week")) == len(cases)


def test_the_incremental_job_leaves_the_same_tables_as_a_backfill(mix):  # type: ignore[no-untyped-def]
    _run_mix(mix, rounds=7, catch_up_every=1)
    rollups.catch_up()

    def snapshot():  # type: ignore[no-untyped-def]
        facts = sorted(
            CaseFact.objects.values_list(
                "complaint_id",
                "status",
                "closed",
                "closed_resolved",
                "reopen_count",
                "escalation_max",
                "survey_score",
                "compensation_paid",
            )
        )
        rows = sorted(
            tuple(str(v) for v in row)
            for row in DailyRollup.objects.values_list(
                "date",
                "category_id",
                "product",
                "org_unit_id",
                "region",
                "channel",
                "priority",
                "outcome",
                "received",
                "resolved",
                "closed",
                "answers",
                "compensation_paid",
            )
        )
        return facts, rows

    incremental = snapshot()
    _every_table_agrees_with_the_complaints()
    slices = _slice_snapshot()
    rollups.backfill()
    assert snapshot() == incremental
    assert _slice_snapshot() == slices
    _every_table_agrees_with_the_complaints()
    assert RollupCursor.objects.get(name="rollups").last_event_id == LedgerEvent.objects.order_by("-id").first().pk


# --- every rollup table against the complaints ------------------------------------------------------------

_COUNTS = (
    "received", "acknowledged", "ack_in_sla", "resolved", "resolved_in_sla", "closed", "ever_closed",
    "closed_resolved", "closed_with_remedy", "reopened", "escalations", "answers", "satisfied",
)  # fmt: skip


def _direct_record(c: Complaint) -> dict[str, Any]:
    """One case's contribution to a rollup row, from the complaint itself (direct_kpis of the case
    alone for the counts; the handling times and their buckets computed here)."""
    one = direct_kpis([c])
    record: dict[str, Any] = {name: one[name] for name in _COUNTS}
    record["compensation_paid"] = one["compensation_paid"]
    working = calendar_s = None
    if c.resolved_at:
        calendar_s = max((c.resolved_at - c.received_at).total_seconds(), 0.0)
        working = calendar.working_hours_between(c.received_at, c.resolved_at) * 3600
    record["handling_working_seconds"] = working or 0.0
    record["handling_calendar_seconds"] = calendar_s or 0.0
    for kind, seconds in (("working", working), ("calendar", calendar_s)):
        for i in range(len(HANDLING_EDGES)):
            record[f"{kind}_{i}"] = int(seconds is not None and handling_bucket(seconds) == i)
    return record


def _keys_of(c: Complaint) -> dict[str, str]:
    """The slice key of each dimension, from the complaint."""

    def ident(value: int | None) -> str:
        return "" if value is None else str(value)

    return {
        "category": ident(c.category_id),
        "subcategory": ident(c.subcategory_id),
        "org_unit": ident(c.org_unit_id),
        "department": ident(c.department_id),
        "channel": c.channel,
        "priority": c.priority,
        "region": c.province_code or c.us_state,
        "product": (c.product_sku or c.product_model or c.product_name)[:200],
    }


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in ("handling_working_seconds", "handling_calendar_seconds")}
    out["compensation_paid"] = Decimal(row["compensation_paid"]).quantize(Decimal("0.01"))
    out["handling_working_seconds"] = round(float(row["handling_working_seconds"]), 3)
    out["handling_calendar_seconds"] = round(float(row["handling_calendar_seconds"]), 3)
    return out


def _every_table_agrees_with_the_complaints() -> None:
    cases = [c for c in Complaint.objects.exclude(status=Status.MERGED)]
    records = {c.pk: _direct_record(c) for c in cases}
    keys = {c.pk: _keys_of(c) for c in cases}
    bucket_names = [f"{kind}_{i}" for kind in ("working", "calendar") for i in range(len(HANDLING_EDGES))]
    measures = [m for m in next(iter(records.values())) if m not in bucket_names]
    assert len(rollups.SLICES) == len(set(rollups.SLICES)) and () in rollups.SLICES
    for spec in rollups.SLICES:
        dim_a, dim_b = (*spec, "", "")[:2]
        expected: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(lambda: dict.fromkeys(measures, 0))
        for c in cases:
            group = (
                _local(c.received_at).isoformat(),
                keys[c.pk][dim_a] if dim_a else "",
                keys[c.pk][dim_b] if dim_b else "",
            )
            for name in measures:
                expected[group][name] += records[c.pk][name]
        stored = {
            (row.pop("date").isoformat(), row.pop("key_a"), row.pop("key_b")): row
            for row in DailySlice.objects.filter(dim_a=dim_a, dim_b=dim_b).values("date", "key_a", "key_b", *measures)
        }
        assert set(stored) == set(expected), spec
        for group, row in stored.items():
            assert _comparable(row) == _comparable(expected[group]), (spec, group)
    # HandlingRollup: the resolved cases per bucket, in total and per value of each dimension.
    assert rollups.HANDLING_SLICES == ((), *((d,) for d in rollups.DIMENSIONS))
    for spec in rollups.HANDLING_SLICES:
        dim = spec[0] if spec else ""
        buckets: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(bucket_names, 0))
        for c in cases:
            if c.resolved_at:
                group = (_local(c.received_at).isoformat(), keys[c.pk][dim] if dim else "")
                for name in bucket_names:
                    buckets[group][name] += records[c.pk][name]
        stored_buckets = {
            (row.pop("date").isoformat(), row.pop("key")): row
            for row in HandlingRollup.objects.filter(dim=dim).values("date", "key", *bucket_names)
        }
        assert stored_buckets == dict(buckets), spec
    # DailyRollup, the fine table, by its own key.
    fine_measures = measures
    expected_fine: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: dict.fromkeys(fine_measures, 0))
    for c in cases:
        k = keys[c.pk]
        group = (_local(c.received_at), c.category_id, k["product"], c.org_unit_id, k["region"], c.channel, c.priority)
        group += (c.outcome,)
        for name in fine_measures:
            expected_fine[group][name] += records[c.pk][name]
    fields = ("date", "category_id", "product", "org_unit_id", "region", "channel", "priority", "outcome")
    stored_fine = {
        tuple(row.pop(f) for f in fields): row for row in DailyRollup.objects.values(*fields, *fine_measures)
    }
    assert set(stored_fine) == set(expected_fine)
    for group, row in stored_fine.items():
        assert _comparable(row) == _comparable(expected_fine[group]), group
    # CaseFact: one row per case with its buckets.
    facts = dict(CaseFact.objects.values_list("complaint_id", "working_bucket"))
    for c in Complaint.objects.all():
        want = records[c.pk] if c.pk in records else None
        if want is not None:
            bucket = next((i for i in range(len(HANDLING_EDGES)) if want[f"working_{i}"]), None)
            assert facts[c.pk] == bucket, c.pk


def _slice_snapshot() -> list[tuple[str, ...]]:
    slices = DailySlice.objects.values_list("date", "dim_a", "key_a", "dim_b", "key_b", "received", "resolved")
    handling = HandlingRollup.objects.values_list("date", "dim", "key", "working_3", "calendar_5")
    return sorted(tuple(str(v) for v in row) for row in [*slices, *handling])


def test_the_job_records_how_far_it_got_and_skips_what_it_has_seen(mix):  # type: ignore[no-untyped-def]
    mix.intake(5)
    first = rollups.catch_up()
    assert first["cases"] == 5
    cursor = RollupCursor.objects.get(name="rollups")
    assert cursor.last_event_id == LedgerEvent.objects.order_by("-id").first().pk
    again = rollups.catch_up()
    assert again["cases"] == 0  # the rescan window re-reads events but refreshes nothing already seen


def test_an_event_that_committed_late_is_picked_up_by_the_rescan(mix):  # type: ignore[no-untyped-def]
    import time_machine

    from complaints import actions
    from complaints.ledgering import Actor

    mix.intake(3)
    rollups.catch_up()
    with time_machine.travel(START + timedelta(days=DAYS, hours=1), tick=False):
        for case in mix.cases:  # a new event on every case
            actions.accept(Complaint.objects.get(pk=case.pk), actor=Actor.staff(mix.cast.supervisor))
    # Pretend the job already saw ids beyond them (their ids were taken early, the commit came late).
    top = LedgerEvent.objects.order_by("-id").first()
    RollupCursor.objects.filter(name="rollups").update(last_event_id=top.pk + 1000, last_event_at=top.created_at)
    result = rollups.catch_up()
    assert result["cases"] == 3
    assert _same(kpis(_whole()), direct_kpis(direct_cases(FIRST, LAST)))


def test_the_backfill_command_rebuilds_everything(mix):  # type: ignore[no-untyped-def]
    from io import StringIO

    from django.core.management import call_command

    mix.intake(4)
    out = StringIO()
    call_command("backfill_rollups", stdout=out)
    assert "cases=4" in out.getvalue()
    assert CaseFact.objects.count() == 4
    assert sum(DailyRollup.objects.values_list("received", flat=True)) == 4
    for spec in rollups.SLICES:  # every slice counts every case once
        dim_a, dim_b = (*spec, "", "")[:2]
        assert sum(DailySlice.objects.filter(dim_a=dim_a, dim_b=dim_b).values_list("received", flat=True)) == 4


def test_the_scheduler_runs_the_rollups_job(db):  # type: ignore[no-untyped-def]
    from core import scheduler

    assert "rollups" in dict(scheduler.jobs())


def test_an_empty_period_has_zero_complaints_and_no_rates(db):  # type: ignore[no-untyped-def]
    figures = kpis(Filters(date_from=date(2020, 1, 1), date_to=date(2020, 1, 31)))
    assert figures["received"] == 0
    assert figures["resolution_rate"] is None and figures["handling_hours_working_p90"] is None
