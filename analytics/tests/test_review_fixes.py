"""Scope of the spike markers, the job's lock, the closed-case rule, CNY, p90 on PostgreSQL, scorecard
access, the product filter, top-N in SQL and the drill-down links."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from analytics import dashboard, rollups
from analytics.filters import Filters
from analytics.models import CaseFact, DailyRollup, RollupCursor
from analytics.selectors import breakdown, kpis
from casework import actions as casework
from complaints import actions
from complaints.choices import Outcome, Status
from complaints.ledgering import Actor
from resolutions import actions as remedies
from resolutions.models import Remedy

from .conftest import DAYS, START, direct_cases, direct_kpis, fresh

FIRST = START.date()
LAST = FIRST + timedelta(days=DAYS + 1)
PERIOD = {"from": FIRST.isoformat(), "to": LAST.isoformat()}


def _whole() -> Filters:
    return Filters(date_from=FIRST, date_to=LAST)


@pytest.fixture
def figures(mix):  # type: ignore[no-untyped-def]
    mix.intake(16)
    for _ in range(4):
        mix.advance()
    rollups.catch_up()
    return mix


# --- 1. spike alerts on the trend chart -----------------------------------------------------------


def _alert(dimension: str, value: str, complaint_ids: list[int], day: date) -> None:
    from intelligence.models import SpikeAlert

    SpikeAlert.objects.create(
        dimension=dimension, value=value, value_label=f"{dimension}:{value}", day=day, window_days=1,
        observed=20, expected=2.0, rise_percent=900.0, p_value=1e-9, complaint_ids=complaint_ids,
    )  # fmt: skip


def _spikes(data: dict) -> list[str]:  # type: ignore[type-arg]
    trend = next(c for c in data["charts"] if c["id"] == "chart-trend")
    return sorted(s["label"] for s in trend["spikes"])


def test_the_trend_shows_only_the_spike_alerts_the_reader_may_see_of_the_series_drawn(figures, cast):  # type: ignore[no-untyped-def]
    mine = figures.cases[0].pk
    day = FIRST + timedelta(days=3)
    _alert("total", "all", [mine], day)
    _alert("total", "other", [10**9], day)  # cases the service supervisor cannot see
    _alert("product", "KT-1001", [mine], day)
    _alert("total", "late", [mine], LAST + timedelta(days=30))  # outside the period
    supervisor = dashboard.build(_whole().scoped(cast.supervisor), cast.supervisor)
    assert _spikes(supervisor) == ["total:all"]
    assert _spikes(dashboard.build(_whole().scoped(cast.analyst), cast.analyst)) == ["total:all", "total:other"]
    product = Filters(date_from=FIRST, date_to=LAST, product="KT-1001").scoped(cast.supervisor)
    assert _spikes(dashboard.build(product, cast.supervisor)) == ["product:KT-1001"]


# --- 2. one round of the job at a time ---------------------------------------------------------------


def test_the_daily_rollup_holds_one_row_per_group_even_where_a_key_is_empty(db):  # type: ignore[no-untyped-def]
    group = {"date": FIRST, "category": None, "org_unit": None, "product": "", "region": "", "channel": "web"}
    DailyRollup.objects.create(priority="P3", **group)
    with pytest.raises(IntegrityError), transaction.atomic():
        DailyRollup.objects.create(priority="P3", **group)


def test_neither_the_job_nor_a_backfill_moves_the_cursor_backwards(figures):  # type: ignore[no-untyped-def]
    ahead = START + timedelta(days=400)
    RollupCursor.objects.filter(name=rollups.CURSOR).update(last_event_id=10**9, last_event_at=ahead)
    rollups.backfill()
    cursor = RollupCursor.objects.get(name=rollups.CURSOR)
    assert (cursor.last_event_id, cursor.last_event_at) == (10**9, ahead)
    rollups.catch_up()
    cursor = RollupCursor.objects.get(name=rollups.CURSOR)
    assert (cursor.last_event_id, cursor.last_event_at) == (10**9, ahead)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers by BEGIN IMMEDIATE")
@pytest.mark.django_db(transaction=True)
def test_a_round_started_while_another_holds_the_cursor_says_busy_and_writes_nothing(mix):  # type: ignore[no-untyped-def]
    mix.intake(3)
    RollupCursor.objects.get_or_create(name=rollups.CURSOR)
    held, release, answers = threading.Event(), threading.Event(), {}

    def other_round() -> None:
        try:
            with transaction.atomic():
                RollupCursor.objects.select_for_update().get(name=rollups.CURSOR)
                held.set()
                release.wait(30)
        finally:
            connection.close()

    worker = threading.Thread(target=other_round)
    worker.start()
    try:
        assert held.wait(30)
        answers["job"] = rollups.catch_up()
        answers["backfill"] = rollups.backfill()
    finally:
        release.set()
        worker.join()
    assert answers == {"job": {"busy": 1}, "backfill": {"busy": 1}}
    assert not CaseFact.objects.exists() and not DailyRollup.objects.exists()
    assert rollups.catch_up()["cases"] == 3


# --- 3. resolution rate and reopen rate, 4. CNY only ---------------------------------------------------


def _close(mix, case, moment):  # type: ignore[no-untyped-def]
    sup, agent = Actor.staff(mix.cast.supervisor), Actor.staff(mix.cast.agent)
    with time_machine.travel(moment, tick=False), mix.capture(execute=True):
        c = fresh(actions.accept(fresh(case), actor=sup))
        if c.owner_id != mix.cast.agent.pk:
            actions.assign(c, actor=sup, owner=mix.cast.agent)
        actions.start_work(fresh(case), actor=agent)
        remedy = remedies.add_remedy(
            fresh(case), actor=agent, kind="compensation", amount=Decimal("80"), description="补偿"
        )
        remedy = Remedy.objects.get(pk=remedy.pk)
        remedies.mark_remedy_paid(remedy, actor=agent, reference=f"T{case.pk}")
        actions.resolve(fresh(case), actor=agent, outcome=Outcome.EXECUTED, note="已处理。")
        casework.send_reply(fresh(case), actor=agent, text="您好，已处理完毕。")
        actions.close(fresh(case), actor=agent, evidence_complete=True)


def test_a_case_withdrawn_after_a_reopening_is_no_longer_a_closed_case(mix):  # type: ignore[no-untyped-def]
    mix.intake(2)
    withdrawn, kept = mix.cases
    moment = START + timedelta(days=DAYS + 1)
    _close(mix, withdrawn, moment)
    _close(mix, kept, moment)
    with time_machine.travel(moment + timedelta(hours=2), tick=False), mix.capture(execute=True):
        actions.reopen(fresh(withdrawn), actor=Actor.consumer(), reason="问题没有解决。")
        actions.withdraw(fresh(withdrawn), actor=Actor.consumer(), reason="不想再处理了。")
    assert fresh(withdrawn).status == Status.WITHDRAWN
    rollups.catch_up()
    for figures in (kpis(_whole()), kpis(Filters(date_from=FIRST, date_to=LAST, department="service"))):
        assert (figures["closed"], figures["closed_resolved"], figures["ever_closed"]) == (1, 1, 2)
        assert figures["resolution_rate"] == 1.0 and figures["reopen_rate"] == 0.5
    direct = direct_kpis(direct_cases(FIRST, LAST))
    assert {k: kpis(_whole())[k] for k in direct} == direct


def test_compensation_counts_cny_only(mix):  # type: ignore[no-untyped-def]
    mix.intake(2)
    moment = START + timedelta(days=DAYS + 1)
    _close(mix, mix.cases[0], moment)
    _close(mix, mix.cases[1], moment)
    # A remedy paid in dollars (foreign-currency approval rules are not what this test is about).
    Remedy.objects.filter(complaint=mix.cases[1]).update(currency="USD")
    rollups.catch_up()
    assert kpis(_whole())["compensation_paid"] == Decimal("80.00")
    assert kpis(_whole())["closed_with_remedy"] == 2  # a remedy in another currency is still a remedy
    assert direct_kpis(direct_cases(FIRST, LAST))["compensation_paid"] == Decimal("80.00")


# --- 5. p90 in one aggregate on PostgreSQL ---------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="percentile_disc is PostgreSQL's")
def test_on_postgresql_both_p90_come_from_one_percentile_query(figures):  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        figures_now = kpis(_whole())
    on_facts = [q["sql"] for q in queries.captured_queries if "analytics_casefact" in q["sql"]]
    assert len(on_facts) == 1 and "percentile_disc" in on_facts[0]
    direct = direct_kpis(direct_cases(FIRST, LAST))
    assert figures_now["handling_hours_working_p90"] == direct["handling_hours_working_p90"]
    assert figures_now["handling_hours_calendar_p90"] == direct["handling_hours_calendar_p90"]


# --- 6. per-person figures for supervisors only -------------------------------------------------------------


def test_only_supervisors_and_managers_may_break_down_by_owner(figures, cast, api_as):  # type: ignore[no-untyped-def]
    for reader in (cast.analyst, cast.auditor):
        assert api_as(reader).get("/analytics/breakdown", dimension="owner", **PERIOD).status_code == 403
        assert api_as(reader).get("/analytics/breakdown", dimension="channel", **PERIOD).status_code == 200
    response = api_as(cast.supervisor).get("/analytics/breakdown", dimension="owner", **PERIOD)
    assert response.status_code == 200 and response.json()["rows"]
    other = api_as(cast.quality_supervisor).get("/analytics/breakdown", dimension="owner", **PERIOD)
    assert other.status_code == 200 and not any(r["received"] for r in other.json()["rows"])
    assert api_as(cast.manager).get("/analytics/breakdown", dimension="owner", **PERIOD).status_code == 200


# --- 7. the product filter tells nothing --------------------------------------------------------------------


def test_an_unknown_product_is_an_empty_answer_not_an_error_and_costs_no_lookup(figures, cast, api_as):  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        Filters.from_query({**PERIOD, "product": "no-such-sku"})
    assert not queries.captured_queries
    response = api_as(cast.quality_supervisor).get("/analytics/kpis", product="KT-1001", **PERIOD)
    assert response.status_code == 200 and response.json()["empty"] is True
    assert api_as(cast.analyst).get("/analytics/kpis", product="no-such-sku", **PERIOD).json()["empty"] is True
    indexed = {tuple(i.fields) for m in (CaseFact, DailyRollup) for i in m._meta.indexes}
    assert {("product",), ("product", "date"), ("region", "date")} <= indexed


# --- 8. top-N in SQL ------------------------------------------------------------------------------------------


def test_the_top_values_are_cut_in_sql(figures):  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        rows = breakdown(_whole(), "product", limit=2)
    grouped = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]]
    assert len(grouped) == 1 and "LIMIT 2" in grouped[0] and "ORDER BY" in grouped[0]
    everything = breakdown(_whole(), "product", limit=20)
    assert len(rows) == 2 and [r["received"] for r in rows] == [r["received"] for r in everything[:2]]
    assert rows[0]["received"] >= rows[1]["received"]


# --- 9. drill-down links ----------------------------------------------------------------------------------------


def test_monthly_bars_link_to_their_month_and_an_empty_value_has_no_link(figures, cast):  # type: ignore[no-untyped-def]
    span = Filters(date_from=date(2026, 2, 20), date_to=date(2026, 3, 20))
    charts = {c["id"]: c for c in dashboard.build(span.scoped(cast.analyst), cast.analyst)["charts"]}
    money = charts["chart-escalations-remedies"]
    assert money["labels"] == ["2026-02", "2026-03"]
    assert "from=2026-02-20&to=2026-02-28" in money["urls"][0]
    assert "from=2026-03-01&to=2026-03-20" in money["urls"][1]
    units = charts["chart-org_unit-received"]
    assert "（未填写）" in units["labels"]  # the mix has cases without an org unit
    for label, url in zip(units["labels"], units["urls"], strict=True):
        if label == "（未填写）":
            assert url is None
        else:
            assert url is not None and "org_unit=" in url and "org_unit=None" not in url
