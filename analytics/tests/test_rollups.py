"""The rollups agree exactly with direct queries on the complaints, after a seeded random mix of
intakes, transitions, remedies, escalations, reopenings, merges and survey answers."""

from datetime import date, timedelta

import pytest

from analytics import rollups
from analytics.filters import Filters
from analytics.models import CaseFact, DailyRollup, RollupCursor
from analytics.selectors import breakdown, kpis
from complaints.choices import Status
from complaints.models import Complaint
from ledger.models import LedgerEvent

from .conftest import DAYS, START, direct_cases, direct_kpis

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


@pytest.mark.parametrize("catch_up_every", [None, 2])
def test_every_kpi_agrees_exactly_with_direct_queries(mix, catch_up_every):  # type: ignore[no-untyped-def]
    _run_mix(mix, rounds=7, catch_up_every=catch_up_every)
    rollups.catch_up()
    assert kpis(_whole()) == direct_kpis(direct_cases(FIRST, LAST))
    # A shorter period and a department filter (the CaseFact path) agree too.
    part = Filters(date_from=FIRST + timedelta(days=3), date_to=FIRST + timedelta(days=7))
    assert kpis(part) == direct_kpis(direct_cases(part.date_from, part.date_to))
    service = Filters(date_from=FIRST, date_to=LAST, department="service")
    assert kpis(service) == direct_kpis(direct_cases(FIRST, LAST, department__code="service"))


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
    rollups.backfill()
    assert snapshot() == incremental
    assert RollupCursor.objects.get(name="rollups").last_event_id == LedgerEvent.objects.order_by("-id").first().pk


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
    assert kpis(_whole()) == direct_kpis(direct_cases(FIRST, LAST))


def test_the_backfill_command_rebuilds_everything(mix):  # type: ignore[no-untyped-def]
    from io import StringIO

    from django.core.management import call_command

    mix.intake(4)
    out = StringIO()
    call_command("backfill_rollups", stdout=out)
    assert "cases=4" in out.getvalue()
    assert CaseFact.objects.count() == 4
    assert sum(DailyRollup.objects.values_list("received", flat=True)) == 4


def test_the_scheduler_runs_the_rollups_job(db):  # type: ignore[no-untyped-def]
    from core import scheduler

    assert "rollups" in dict(scheduler.jobs())


def test_an_empty_period_has_zero_complaints_and_no_rates(db):  # type: ignore[no-untyped-def]
    figures = kpis(Filters(date_from=date(2020, 1, 1), date_to=date(2020, 1, 31)))
    assert figures["received"] == 0
    assert figures["resolution_rate"] is None and figures["handling_hours_working_p90"] is None
