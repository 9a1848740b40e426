# ruff: noqa: S608 -- the statements are built from this file's constants; values go as parameters.
"""Analytics at scale (issue 8, scale targets): the dashboard, the case list, the Chinese search, the
month's report and the rollup catch-up on PostgreSQL with millions of complaints.

    .venv/bin/python bench/analytics_bench.py [--scale 2000000 | --scale 10000000 | --quick] [--requests 30]

Drops and creates the database complaintdesk_bench_analytics, migrates, and generates the complaints
in SQL (bench/analytics_data.py: resampled texts of ../shared/data, not the application's actions).
It generates half of them, measures the dashboard, generates the other half (the same two years, twice
the density) and measures everything, so the dashboard figures at both sizes show whether they depend
on the number of complaints. Every measurement goes through the application's own code in this
process: the Django test client for pages (middleware, views, selectors, templates), the report
renderer, `analytics.rollups.catch_up`. Results: bench/results/analytics.json. It is a benchmark, not a
test: nothing fails on a slow figure; the targets are reported as booleans.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# Another name (BENCH_ANALYTICS_DB) keeps two people's runs on one server apart.
DB_NAME = os.environ.get("BENCH_ANALYTICS_DB", "complaintdesk_bench_analytics")
SECTIONS = ("dashboard", "case_list", "search", "report", "catch_up")
# The dashboard scenarios measured at both sizes (all of them at the full size).
BOTH_SIZES = ("analyst, default view (last 30 days)", "analyst, 365 days", "manager (华南区), default view")
TARGETS_MS = {"dashboard_p95": 300, "case_list_p95": 150, "search_p95": 200, "report": 10_000, "catch_up": 30_000}


def log(message: str) -> None:
    print(f"[analytics-bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def create_database() -> dict[str, str]:
    with psycopg.connect(f"{PG_SERVER}/postgres".replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
        return {
            name: str(conn.execute(f"SHOW {name}").fetchone()[0])
            for name in ("server_version", "shared_buffers", "work_mem", "effective_cache_size", "max_parallel_workers")
        }


def setup_django() -> None:
    os.environ.update(
        DATABASE_URL=f"{PG_SERVER}/{DB_NAME}",
        DJANGO_SETTINGS_MODULE="config.settings",
        COMPLAINTDESK_RATELIMIT="off",
        TASK_BACKEND="db",
        STATIC_MANIFEST="false",  # pages render without a collectstatic run; the cost is the same
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("DEBUG", None)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(BENCH))
    import django

    django.setup()


# --- generation ---------------------------------------------------------------------------------------------


LOADED_TABLES = ("complaints_complaint", "ledger_ledgerevent", "analytics_casefact", "resolutions_remedy",
                 "feedback_survey", "feedback_surveyanswer")  # fmt: skip


def generate_half(cursor: Any, n: int, offset: int, now: datetime, seed: float) -> dict[str, float]:
    """Bulk load as one would: the secondary indexes of the loaded tables (the search index among them)
    are dropped first and built again after the rows are in; primary keys and unique constraints stay."""
    import analytics_data as data

    timings: dict[str, float] = {}
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        [list(LOADED_TABLES)],
    )
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    cursor.execute("SET work_mem = '256MB'")
    cursor.execute("SET maintenance_work_mem = '1GB'")
    started = time.time()
    data.generate(cursor, n, offset, now, seed)
    data.reset_sequences(cursor)
    timings["rows_s"] = time.time() - started
    started = time.time()
    for _name, definition in indexes:
        cursor.execute(definition)
    timings["indexes_s"] = time.time() - started
    started = time.time()
    for table in LOADED_TABLES:
        cursor.execute(f"VACUUM ANALYZE {table}")
    timings["vacuum_analyze_s"] = time.time() - started
    cursor.execute("RESET work_mem")
    cursor.execute("RESET maintenance_work_mem")
    return {k: round(v, 1) for k, v in timings.items()}


def build_rollups(cursor: Any) -> dict[str, Any]:
    """The rollups from the facts by the job's own SQL (analytics.rollups.rebuild_days over every date),
    and the cursor moved to the ledger head, as backfill_rollups leaves it."""
    from django.db.models import Max

    from analytics import rollups
    from analytics.models import DailyRollup, DailySlice, HandlingRollup, RollupCursor
    from ledger.models import LedgerEvent

    started = time.time()
    cursor.execute("SET work_mem = '256MB'")
    rollups.rebuild_days(None)
    cursor.execute("RESET work_mem")
    elapsed = time.time() - started
    top = LedgerEvent.objects.aggregate(id=Max("id"), at=Max("created_at"))
    RollupCursor.objects.update_or_create(
        name=rollups.CURSOR, defaults={"last_event_id": top["id"], "last_event_at": top["at"], "updated_at": top["at"]}
    )
    for table in ("analytics_dailyrollup", "analytics_dailyslice", "analytics_handlingrollup"):
        cursor.execute(f"VACUUM ANALYZE {table}")
    return {
        "rebuild_s": round(elapsed, 1),
        "daily_rollup_rows": DailyRollup.objects.count(),
        "daily_slice_rows": DailySlice.objects.count(),
        "handling_rollup_rows": HandlingRollup.objects.count(),
    }


# --- measuring ---------------------------------------------------------------------------------------------


def _client(username: str) -> Any:
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def timed_gets(client: Any, path: str, params: dict[str, str], requests: int, warmup: int = 2) -> dict[str, Any]:
    timings = []
    body = ""
    for i in range(requests + warmup):
        started = time.perf_counter()
        response = client.get(path, params)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path} {params}: HTTP {response.status_code}\n{response.content[:2000]!r}")
        if i >= warmup:
            timings.append(elapsed)
        body = response.content.decode()
    timings.sort()
    return {
        "requests": requests,
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[max(int(len(timings) * 0.95) - 1, 0)], 1),
        "max_ms": round(timings[-1], 1),
        "_body": body,
    }


def _strip(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if not k.startswith("_")}


def dashboard_scenarios(today: date) -> dict[str, tuple[str, dict[str, str]]]:
    from accounts.models import OrgUnit

    east = str(OrgUnit.objects.get(name="华东区").pk)

    def period(days: int) -> dict[str, str]:
        return {"from": (today - timedelta(days=days)).isoformat(), "to": (today - timedelta(days=1)).isoformat()}

    return {
        "analyst, default view (last 30 days)": ("bench_analyst", {}),
        "analyst, 90 days": ("bench_analyst", period(90)),
        "analyst, 365 days": ("bench_analyst", period(365)),
        "analyst, 365 days, category": ("bench_analyst", {**period(365), "category": "service"}),
        "analyst, 365 days, org unit": ("bench_analyst", {**period(365), "org_unit": east}),
        "analyst, 30 days, category + channel + org unit": (
            "bench_analyst", {**period(30), "category": "delivery", "channel": "phone", "org_unit": east},
        ),
        "manager (华南区), default view": ("bench_manager", {}),
        "supervisor (客服中心), default view": ("bench_supervisor", {}),
    }  # fmt: skip


def measure_dashboard(today: date, requests: int, only: tuple[str, ...] | None = None) -> dict[str, Any]:
    results = {}
    clients: dict[str, Any] = {}
    for name, (username, params) in dashboard_scenarios(today).items():
        if only is not None and name not in only:
            continue
        client = clients.setdefault(username, _client(username))
        result = timed_gets(client, "/staff/analytics/", params, requests)
        body = result["_body"]
        start = body.find('id="kpi-received">')
        received = body[start : start + 200].split(">")[2].split("<")[0] if start >= 0 else "?"
        results[name] = {**_strip(result), "complaints_counted": received, "load_average": os.getloadavg()[0]}
        log(f"dashboard {name}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms ({received} complaints)")
    return results


def measure_case_list(requests: int) -> dict[str, Any]:
    scenarios = {
        "auditor, open P2 phone complaints about service": (
            "bench_auditor", {"scope": "all", "priority": "P2", "channel": "phone", "category": "service"},
        ),
        "auditor, all states, P3 web delivery": (
            "bench_auditor",
            {"scope": "all", "state": "all", "priority": "P3", "channel": "web", "category": "delivery"},
        ),
        "supervisor (客服中心), open P3 wechat service": (
            "bench_supervisor", {"scope": "all", "priority": "P3", "channel": "wechat", "category": "service"},
        ),
    }  # fmt: skip
    results = {}
    for name, (username, params) in scenarios.items():
        result = timed_gets(_client(username), "/staff/", params, requests)
        results[name] = {**_strip(result), "rows_on_page": result["_body"].count("/staff/cases/TS")}
        log(f"case list {name}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms")
    return results


def measure_search(requests: int) -> dict[str, Any]:
    from complaints import search
    from complaints.models import Complaint

    results = {}
    client = _client("bench_auditor")
    for term in ("退款", "质量", "客服", "物流", "发票"):
        params = {"scope": "all", "state": "all", "q": term}
        result = timed_gets(client, "/staff/", params, min(requests, 10))
        matches = search.filter_text(Complaint.objects.all(), term).count()
        results[term] = {**_strip(result), "matches": matches}
        log(f"search {term}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms ({matches:,} matches)")
    return results


def measure_report(today: date) -> dict[str, Any]:
    from accounts.models import User
    from reports import documents
    from reports.figures import Scope
    from reports.inputs import period_of

    period = period_of("monthly", today).previous()
    results: dict[str, Any] = {"period": period.label}
    for user in ("bench_analyst", "bench_manager"):
        scope = Scope(user=User.objects.get(username=user))
        for fmt in ("pdf", "xlsx"):
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                _name, _type, content = documents.render(scope, period, fmt, "zh-hans")
                timings.append((time.perf_counter() - started) * 1000)
            results[f"{user} {fmt}"] = {"max_ms": round(max(timings), 1), "min_ms": round(min(timings), 1),
                                        "bytes": len(content)}  # fmt: skip
            log(f"report {period.label} {user} {fmt}: {max(timings):.0f} ms (worst of 3)")
    return results


def measure_catch_up(cursor: Any, now: datetime, cases: int = 50_000) -> dict[str, Any]:
    """100,000 new ledger events (two per case on the `cases` most recently received cases, where the
    work is: an escalation, then a resolution of the open ones or a note on the others), written with
    the complaints' new state; then one round of the rollups job, timed."""
    from analytics import rollups

    cursor.execute(
        "CREATE TEMP TABLE bench_touched AS SELECT c.id, c.status, c.escalation_level, c.version,"
        " (SELECT max(e.seq) FROM ledger_ledgerevent e WHERE e.complaint_id = c.id) AS last_seq"
        " FROM complaints_complaint c WHERE c.status <> 'merged' ORDER BY c.received_at DESC LIMIT %s",
        [cases],
    )
    open_states = "('new', 'accepted', 'in_progress', 'awaiting_consumer', 'resolution_proposed', 'reopened')"
    cursor.execute(
        f"""UPDATE complaints_complaint c SET escalation_level = LEAST(t.escalation_level + 1, 3),
              version = t.version + 2,
              status = CASE WHEN t.status IN {open_states} THEN 'resolved' ELSE c.status END,
              resolved_at = CASE WHEN t.status IN {open_states} THEN %(now)s ELSE c.resolved_at END,
              outcome = CASE WHEN t.status IN {open_states} THEN 'executed' ELSE c.outcome END
            FROM bench_touched t WHERE t.id = c.id""",
        {"now": now},
    )
    cursor.execute(
        f"""INSERT INTO ledger_ledgerevent (complaint_id, seq, action, actor, actor_label, changes, data, created_at,
                prev_hash, hash)
            SELECT t.id, t.last_seq + e.n, CASE WHEN e.n = 1 THEN 'escalate'
                                     WHEN t.status IN {open_states} THEN 'resolve' ELSE 'add_note' END,
                   'staff', 'bench',
                   CASE WHEN e.n = 1 THEN jsonb_build_object('escalation_level',
                        jsonb_build_array(t.escalation_level, LEAST(t.escalation_level + 1, 3)))
                        ELSE '{{}}'::jsonb END,
                   '{{}}'::jsonb, %(now)s, repeat('0', 64), md5(t.id::text || e.n)
            FROM bench_touched t CROSS JOIN (VALUES (1), (2)) AS e(n) ORDER BY t.id, e.n""",
        {"now": now},
    )
    events = cursor.rowcount
    cursor.execute("DROP TABLE bench_touched")
    cursor.execute("ANALYZE ledger_ledgerevent")
    started = time.time()
    result = rollups.catch_up()
    elapsed = time.time() - started
    log(f"catch-up of {events:,} events: {elapsed:.1f} s {result}")
    return {"events_written": events, "job_result": result, "seconds": round(elapsed, 1)}


def agreement_check(today: date) -> dict[str, Any]:
    """The year's KPIs from the narrow rollups against the same sums straight from CaseFact (the job and
    the bench's SQL facts must agree)."""
    from analytics import selectors
    from analytics.filters import Filters

    filters = Filters(date_from=today - timedelta(days=365), date_to=today - timedelta(days=1))
    from_slices = selectors.totals(filters)
    from_facts = selectors.facts(filters).aggregate(**selectors.FACT_SUMS)
    # Counts and money exactly; the handling-time sums of floats to 1e-9 (their order of addition differs).
    differences = {
        k: (from_slices[k], from_facts[k])
        for k in from_slices
        if not math.isclose(
            float(from_slices[k] or 0), float(from_facts[k] or 0), rel_tol=1e-9 if "seconds" in k else 0
        )
    }
    return {"agree": not differences, "differences": {k: [str(a), str(b)] for k, (a, b) in differences.items()}}


def table_sizes(cursor: Any) -> dict[str, Any]:
    sizes = {}
    for table in ("complaints_complaint", "ledger_ledgerevent", "analytics_casefact", "analytics_dailyrollup",
                  "analytics_dailyslice", "analytics_handlingrollup"):  # fmt: skip
        cursor.execute(
            "SELECT (SELECT reltuples::bigint FROM pg_class WHERE relname = %s), pg_total_relation_size(%s)",
            [table, table],
        )
        rows, size = cursor.fetchone()
        sizes[table] = {"rows": rows, "total_mb": round(size / 2**20)}
    return sizes


def measure_only(args: argparse.Namespace) -> int:
    """Measure again what a previous run generated (e.g. on a quieter machine); the catch-up writes its
    100,000 events on top, so run it once per generated database."""
    setup_django()
    from django.db import connection
    from django.utils import timezone

    from complaints.models import Complaint

    today, now = timezone.localdate(), timezone.now().replace(microsecond=0)
    total = Complaint.objects.count()
    report: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "complaints": total,
        "reused_database": True,
        "load_average_at_start": os.getloadavg(),
    }
    run = set(args.only or SECTIONS) - set(args.skip or ())
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        if "dashboard" in run:
            report["by_size"] = {f"{total:,}": {"dashboard": measure_dashboard(today, args.requests)}}
        measure_sections(report, run, cursor, today, now, args.requests)
    report["targets"] = targets(report, report.get("by_size", {}).get(f"{total:,}", {}))
    report["load_average_at_end"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    log(f"-> {args.out}")
    return 0


def measure_sections(
    report: dict[str, Any], run: set[str], cursor: Any, today: date, now: datetime, requests: int
) -> None:
    """The sections measured once, at the full size (the dashboard is measured per size)."""
    if "case_list" in run:
        report["case_list"] = measure_case_list(requests)
    if "search" in run:
        report["search"] = measure_search(requests)
    if "report" in run:
        report["report"] = measure_report(today)
    if "catch_up" in run:
        report["agreement"] = agreement_check(today)
        report["catch_up"] = measure_catch_up(cursor, now)
        report["agreement_after_catch_up"] = agreement_check(today)


def targets(report: dict[str, Any], full: dict[str, Any]) -> dict[str, bool]:
    """The issue's scale targets, for the sections measured."""
    result = {}
    if "dashboard" in full:
        default_p95 = full["dashboard"]["analyst, default view (last 30 days)"]["p95_ms"]
        result["dashboard default view p95 < 300 ms"] = default_p95 < TARGETS_MS["dashboard_p95"]
        result["dashboard every scenario p95 < 300 ms"] = (
            max(r["p95_ms"] for r in full["dashboard"].values()) < TARGETS_MS["dashboard_p95"]
        )
    if "case_list" in report:
        worst = max(r["p95_ms"] for r in report["case_list"].values())
        result["case list with 3 filters p95 < 150 ms"] = worst < TARGETS_MS["case_list_p95"]
    if "search" in report:
        worst = max(r["p95_ms"] for r in report["search"].values())
        result["two-character search p95 < 200 ms"] = worst < TARGETS_MS["search_p95"]
    if "report" in report:
        worst = max(r["max_ms"] for k, r in report["report"].items() if k != "period")
        result["month report < 10 s"] = worst < TARGETS_MS["report"]
    if "catch_up" in report:
        result["catch-up of 100k events < 30 s"] = report["catch_up"]["seconds"] * 1000 < TARGETS_MS["catch_up"]
    return result


def _sections(value: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = set(names) - set(SECTIONS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=2_000_000, help="complaints in all (default 2,000,000)")
    parser.add_argument("--quick", action="store_true", help="100,000 complaints: a smoke run")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page scenario")
    parser.add_argument("--out", default=str(RESULTS / "analytics.json"))
    parser.add_argument(
        "--measure-only", action="store_true", help="measure the database a previous run left, without generating"
    )
    parser.add_argument("--only", type=_sections, help=f"measure only these (comma-separated: {','.join(SECTIONS)})")
    parser.add_argument("--skip", type=_sections, help="do not measure these (catch_up writes 100,000 events)")
    args = parser.parse_args()
    if args.measure_only:
        return measure_only(args)
    run = set(args.only or SECTIONS) - set(args.skip or ())
    total = 100_000 if args.quick else args.scale
    half = total // 2
    started_all = time.time()
    postgresql = create_database()
    setup_django()

    import analytics_data as data
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    log(f"database {DB_NAME}: migrate")
    call_command("migrate", verbosity=0, interactive=False)
    try:
        call_command("load_regions", verbosity=0)
    except Exception as exc:  # the region names only label the region chart; codes are shown otherwise
        log(f"load_regions failed ({exc}); region codes shown instead of names")
    now = timezone.now().replace(microsecond=0)
    today = timezone.localdate()
    report: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "complaints": total,
        "postgresql": postgresql,
        # Other work on this 2-core machine slows every figure; the 1-minute load average is kept with them.
        "load_average_at_start": os.getloadavg(),
        "generation": {},
    }
    started = time.time()
    texts = data.read_texts()
    data.tokenize(texts)
    report["generation"]["texts"] = {"count": len(texts), "tokenize_s": round(time.time() - started, 1)}
    log(f"{len(texts):,} texts tokenised by complaints.search.index_text in {time.time() - started:.0f} s")
    ref = data.reference_data()
    first = today - timedelta(days=730)
    days = [(d, w if d < today else 0.0, working) for d, w, working in data.day_weights(first, today + timedelta(60))]
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor, for COPY
        data.load_staging(cursor, texts, days, ref)
        sizes_at: dict[str, Any] = {}
        for label, n, offset, seed in (("first half", half, 0, 0.11), ("second half", total - half, half, 0.22)):
            log(f"generating the {label}: {n:,} complaints")
            report["generation"][label] = generate_half(cursor, n, offset, now, seed)
            report["generation"][label]["rollups"] = build_rollups(cursor)
            log(f"{label}: {report['generation'][label]}")
            size = f"{offset + n:,}"
            sizes_at[size] = {"tables": table_sizes(cursor)}
            if "dashboard" in run:
                sizes_at[size]["dashboard"] = measure_dashboard(
                    today, args.requests, only=None if label == "second half" else BOTH_SIZES
                )
        report["generation"]["total_s"] = round(time.time() - started_all, 1)
        report["working_hours_check_max_diff_s"] = data.check_working_hours(cursor)
        report["by_size"] = sizes_at
        measure_sections(report, run, cursor, today, now, args.requests)
    report["targets"] = targets(report, sizes_at[f"{total:,}"])
    report["total_s"] = round(time.time() - started_all, 1)
    report["load_average_at_end"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    log(f"targets: {report['targets']}")
    log(f"done in {report['total_s']:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
