"""Keeping CaseFact, DailyRollup and DailySlice current from the ledger (the "rollups" job) and
rebuilding them.

Every change to a case is a ledger event, so the ledger is the change feed: each round reads the
events after the cursor, refreshes the fact row of every case they touched from the case's current
state, and rebuilds the DailyRollup and DailySlice rows of the received dates of those cases (one
INSERT … SELECT … GROUP BY per table and slice, inside the database). An event id may be taken early
and committed late (ledger/chain.py): each round also rescans RESCAN before the last event it saw, and
refreshes a case only if the rescan shows a ledger seq newer than the one its fact reflects.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Max, Q, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from complaints import calendar
from complaints.choices import Outcome, Status
from complaints.models import Complaint
from ledger.chain import NEUTRAL_PREFIXES
from ledger.models import LedgerEvent

from .models import (
    HANDLING_EDGES,
    CaseFact,
    DailyRollup,
    DailySlice,
    HandlingRollup,
    RollupCursor,
    handling_bucket,
)

CURSOR = "rollups"
RESCAN = timedelta(minutes=10)
BATCH = 500
RESOLVED_OUTCOMES = frozenset({Outcome.ACCEPTED, Outcome.EXECUTED})
# DESIGN.md §8: the resolution rate's denominator is the cases closed now (closed, or archived after
# closing); rejected and withdrawn cases are apart (even a withdrawal after a reopening).
CLOSED_STATES = frozenset({Status.CLOSED, Status.ARCHIVED})
# Compensation figures count this currency only (remedies in another currency are not added in).
CURRENCY = "CNY"
SATISFIED_AT_LEAST = 4
GROUP_FIELDS = ("category_id", "product", "org_unit_id", "region", "channel", "priority", "outcome")

# The dimensions of the narrow rollups (DailySlice), in the order a slice names them (dim_a before
# dim_b), with the CaseFact column each is read from.
DIMENSIONS = {
    "category": "category_id",
    "subcategory": "subcategory_id",
    "org_unit": "org_unit_id",
    "department": "department_id",
    "channel": "channel",
    "priority": "priority",
    "region": "region",
    "product": "product",
}
_ORDER = {name: i for i, name in enumerate(DIMENSIONS)}
# The filters and reader scopes a slice must be able to answer (with one more dimension to break down).
FILTER_DIMENSIONS = ("category", "subcategory", "org_unit", "department", "channel", "priority")


def _slices() -> tuple[tuple[str, ...], ...]:
    """Which slices are kept: the total, every dimension alone, and the pairs whose values multiply to
    a bounded number of rows per day (the filter dimensions and region with each other, sub-category
    only with the dimensions of few values). Org unit × sub-category, × product and the like have
    about one row per case; those questions (a filter and a breakdown on them, or three dimensions)
    select few cases and are answered by DailyRollup or CaseFact, indexed for them."""
    few = ("category", "org_unit", "department", "channel", "priority", "region")
    pairs = [(a, b) for i, a in enumerate(few) for b in few[i + 1 :]]
    pairs += [("category", "subcategory")] + [("subcategory", b) for b in ("department", "channel", "priority")]
    pairs.sort(key=lambda pair: (_ORDER[pair[0]], _ORDER[pair[1]]))
    return ((), *((name,) for name in DIMENSIONS), *pairs)


SLICES = _slices()
# The slices whose handling-time buckets are kept too (HandlingRollup): the total and each dimension.
HANDLING_SLICES = tuple(spec for spec in SLICES if len(spec) <= 1)


def slice_for(dims: Iterable[str]) -> tuple[str, ...] | None:
    """The kept slice holding exactly these dimensions (in slice order), or None."""
    wanted = tuple(sorted(set(dims), key=_ORDER.__getitem__))
    return wanted if wanted in SLICES else None


def _ids(ids: list[int]) -> Any:
    """The right-hand side of an `__in` filter on these ids: on PostgreSQL one array parameter
    (`IN (SELECT unnest(%s))`), since building and sending 500 parameters per query was a large part of
    a catch-up round's time; elsewhere the list."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (list(ids),))
    return ids


def _flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def _escalated(ids: list[int]) -> dict[int, int]:
    """{case id: the highest escalation level its ledger events record}, for the cases that have any
    (an escalation_level change is [before, after]; a later de-escalation does not lower it)."""
    if connection.vendor == "postgresql":
        # Aggregated in the database: decoding every event's JSON in Python cost seconds per round.
        level = "changes -> 'escalation_level' -> -1"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT complaint_id, MAX(({level})::numeric) FROM {LedgerEvent._meta.db_table} "  # noqa: S608 (our names)
                f"WHERE complaint_id = ANY(%s::bigint[]) AND changes ? 'escalation_level' "
                f"AND jsonb_typeof(changes -> 'escalation_level') = 'array' AND jsonb_typeof({level}) = 'number' "
                "GROUP BY complaint_id",
                [list(ids)],
            )
            return {cid: int(top) for cid, top in cursor.fetchall()}
    escalated: dict[int, int] = {}
    for cid, pair in LedgerEvent.objects.filter(complaint_id__in=ids, changes__has_key="escalation_level").values_list(
        "complaint_id", "changes__escalation_level"
    ):
        if isinstance(pair, list) and pair and isinstance(pair[-1], int):
            escalated[cid] = max(escalated.get(cid, 0), pair[-1])
    return escalated


def _local_date(moment: Any) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def _facts_for(ids: list[int], seqs: dict[int, int], now: Any) -> list[dict[str, Any]]:
    """The CaseFact rows of these cases, as {column attname: value} (model instances only where
    bulk_create needs them: building 50,000 of them took seconds)."""
    from feedback.models import SurveyAnswer
    from resolutions.choices import RemedyStatus
    from resolutions.models import Remedy

    # Named tuples, not model instances: building 50,000 deferred Complaint objects was a quarter of
    # a catch-up round's time (issue 8: catch-up target).
    # The deadline comparisons in SQL: loading four more timestamps per case cost more than they do.
    complaints = (
        Complaint.objects.filter(pk__in=_ids(ids))
        .annotate(
            ack_known=_flag(Q(acknowledged_at__isnull=False)),
            ack_on_time=_flag(
                Q(acknowledged_at__isnull=False)
                & (Q(ack_due_at__isnull=True) | Q(acknowledged_at__lte=F("ack_due_at")))
            ),
            resolved_on_time=_flag(
                Q(resolved_at__isnull=False)
                & (Q(resolution_due_at__isnull=True) | Q(resolved_at__lte=F("resolution_due_at")))
            ),
            has_closed_at=_flag(Q(closed_at__isnull=False)),
        )
        .values_list(
            "pk",
            "tracking_no",
            "received_at",
            "category_id",
            "subcategory_id",
            "product_sku",
            "product_model",
            "product_name",
            "org_unit_id",
            "province_code",
            "us_state",
            "channel",
            "priority",
            "department_id",
            "owner_id",
            "status",
            "outcome",
            "ack_known",
            "ack_on_time",
            "resolved_at",
            "resolved_on_time",
            "has_closed_at",
            "reopen_count",
            "escalation_level",
            named=True,
        )
    )
    hours = calendar.default_working_hours()
    scores = dict(SurveyAnswer.objects.filter(complaint_id__in=_ids(ids)).values_list("complaint_id", "outcome"))
    paid = {
        row["complaint_id"]: (row["n"], row["total"] or Decimal("0"))
        for row in Remedy.objects.filter(complaint_id__in=_ids(ids), status=RemedyStatus.PAID)
        .values("complaint_id")
        .annotate(n=Count("id"), total=Sum("amount", filter=Q(currency=CURRENCY)))
        .order_by()
    }
    escalated = _escalated(ids)
    facts = []
    for c in complaints:
        n_paid, amount = paid.get(c.pk, (0, Decimal("0")))
        resolved = c.resolved_at is not None
        # Archived straight from "rejected" has no closed_at: not a closed case.
        closed_now = c.status in CLOSED_STATES and bool(c.has_closed_at)
        handling_w = handling_c = None
        if resolved:
            handling_c = max((c.resolved_at - c.received_at).total_seconds(), 0.0)
            handling_w = calendar.working_hours_between(c.received_at, c.resolved_at, hours) * 3600
        facts.append(
            dict(
                working_bucket=handling_bucket(handling_w),
                calendar_bucket=handling_bucket(handling_c),
                complaint_id=c.pk,
                tracking_no=c.tracking_no,
                received_date=_local_date(c.received_at),
                category_id=c.category_id,
                subcategory_id=c.subcategory_id,
                product=(c.product_sku or c.product_model or c.product_name)[:200],
                org_unit_id=c.org_unit_id,
                region=c.province_code or c.us_state,
                channel=c.channel,
                priority=c.priority,
                department_id=c.department_id,
                owner_id=c.owner_id,
                status=c.status,
                outcome=c.outcome,
                merged=c.status == Status.MERGED,
                acknowledged=bool(c.ack_known),
                ack_in_sla=bool(c.ack_on_time),
                resolved=resolved,
                resolved_date=_local_date(c.resolved_at) if resolved else None,
                resolved_in_sla=resolved and bool(c.resolved_on_time),
                closed=closed_now,
                ever_closed=closed_now or c.reopen_count > 0,
                closed_resolved=closed_now and (c.outcome in RESOLVED_OUTCOMES or n_paid > 0),
                closed_with_remedy=closed_now and n_paid > 0,
                reopen_count=c.reopen_count,
                escalation_max=max(c.escalation_level, escalated.get(c.pk, 0)),
                handling_working_seconds=handling_w,
                handling_calendar_seconds=handling_c,
                compensation_paid=amount,
                survey_score=scores.get(c.pk),
                last_seq=seqs.get(c.pk, 0),
                refreshed_at=now,
            )
        )
    return facts


def refresh_cases(seqs: dict[int, int]) -> set[date]:
    """Recompute the facts of these cases ({complaint id: latest ledger seq}); the received dates touched."""
    now = timezone.now()
    dates: set[date] = set()
    ids = sorted(seqs)
    for i in range(0, len(ids), BATCH):
        batch = ids[i : i + BATCH]
        facts = _facts_for(batch, seqs, now)
        with transaction.atomic():
            dates.update(_delete_facts(batch))
            _store_facts(facts)
        dates.update(f["received_date"] for f in facts)
    return dates


def _delete_facts(ids: list[int]) -> set[date]:
    """Delete the fact rows of these cases; the received dates they had."""
    if connection.vendor != "postgresql":
        dates = set(CaseFact.objects.filter(pk__in=ids).values_list("received_date", flat=True))
        CaseFact.objects.filter(pk__in=ids).delete()
        return dates
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {q(CaseFact._meta.db_table)} WHERE complaint_id = ANY(%s::bigint[]) "  # noqa: S608 (our names)
            "RETURNING received_date",
            [list(ids)],
        )
        return {row[0] for row in cursor.fetchall()}


def _store_facts(facts: list[dict[str, Any]]) -> None:
    """Insert these fact rows: by COPY on PostgreSQL (bulk_create's statement building for 37 columns was
    a large part of a catch-up round's time), by bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        CaseFact.objects.bulk_create([CaseFact(**fact) for fact in facts], batch_size=BATCH)
        return
    fields = CaseFact._meta.concrete_fields
    q = connection.ops.quote_name
    columns = ", ".join(q(f.column) for f in fields)
    names = [f.attname for f in fields]
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(f"COPY {q(CaseFact._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for fact in facts:
                copy.write_row([fact[name] for name in names])


# The counts and sums of a set of case facts: the DailyRollup columns, and what the selectors
# compute from CaseFact where no rollup holds the dimension.
FACT_SUMS = {
    "received": Count("pk"),
    "acknowledged": Count("pk", filter=Q(acknowledged=True)),
    "ack_in_sla": Count("pk", filter=Q(ack_in_sla=True)),
    "resolved": Count("pk", filter=Q(resolved=True)),
    "resolved_in_sla": Count("pk", filter=Q(resolved_in_sla=True)),
    "closed": Count("pk", filter=Q(closed=True)),
    "ever_closed": Count("pk", filter=Q(ever_closed=True)),
    "closed_resolved": Count("pk", filter=Q(closed_resolved=True)),
    "closed_with_remedy": Count("pk", filter=Q(closed_with_remedy=True)),
    "reopened": Count("pk", filter=Q(reopen_count__gt=0)),
    "escalations": Count("pk", filter=Q(escalation_max__gt=0)),
    "answers": Count("pk", filter=Q(survey_score__isnull=False)),
    "satisfied": Count("pk", filter=Q(survey_score__gte=SATISFIED_AT_LEAST)),
    "handling_working_seconds": Sum("handling_working_seconds"),
    "handling_calendar_seconds": Sum("handling_calendar_seconds"),
    "compensation_paid": Sum("compensation_paid"),
}


def _measures_sql() -> tuple[list[str], list[str]]:
    """The measure columns of DailyRollup/DailySlice and the SQL that sums them over CaseFact rows `f`
    (the same figures as FACT_SUMS; portable: booleans are summed through CASE on both databases)."""

    def count(condition: str) -> str:
        return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    columns = {
        "received": "COUNT(*)",
        "acknowledged": count("f.acknowledged"),
        "ack_in_sla": count("f.ack_in_sla"),
        "resolved": count("f.resolved"),
        "resolved_in_sla": count("f.resolved_in_sla"),
        "closed": count("f.closed"),
        "ever_closed": count("f.ever_closed"),
        "closed_resolved": count("f.closed_resolved"),
        "closed_with_remedy": count("f.closed_with_remedy"),
        "reopened": count("f.reopen_count > 0"),
        "escalations": count("f.escalation_max > 0"),
        "answers": count("f.survey_score IS NOT NULL"),
        "satisfied": count(f"f.survey_score >= {SATISFIED_AT_LEAST}"),
        "handling_working_seconds": "COALESCE(SUM(f.handling_working_seconds), 0)",
        "handling_calendar_seconds": "COALESCE(SUM(f.handling_calendar_seconds), 0)",
        "compensation_paid": "COALESCE(SUM(f.compensation_paid), 0)",
    }
    return list(columns), list(columns.values())


def _bucket_sql() -> tuple[list[str], list[str]]:
    names, sums = [], []
    for kind in ("working", "calendar"):
        for i in range(len(HANDLING_EDGES)):
            names.append(f"{kind}_{i}")
            sums.append(f"SUM(CASE WHEN f.{kind}_bucket = {i} THEN 1 ELSE 0 END)")
    return names, sums


def _key_sql(dimension: str) -> str:
    column = f"f.{DIMENSIONS[dimension]}"
    if dimension in ("category", "subcategory", "org_unit", "department"):
        return f"COALESCE(CAST({column} AS TEXT), '')"
    return column


def _grouping_sets(specs: tuple[tuple[str, ...], ...], width: int) -> tuple[str, list[str]]:
    """PostgreSQL: one GROUP BY GROUPING SETS over every spec (one read of the facts for all of them),
    and the SQL of the `width` (dimension, key) column pairs that name each output row's set: GROUPING()
    of the dimensions' keys is a bit mask of the keys a row is NOT grouped by."""
    names = list(DIMENSIONS)
    keys = [_key_sql(d) for d in names]
    mask = f"GROUPING({', '.join(keys)})"
    sets = ", ".join("(" + ", ".join(["f.received_date", *(_key_sql(d) for d in spec)]) + ")" for spec in specs)
    columns = []
    for position in range(width):
        dims, values = [], []
        for spec in specs:
            bits = sum(1 << (len(names) - 1 - i) for i, d in enumerate(names) if d not in spec)
            if position < len(spec):
                dims.append(f"WHEN {bits} THEN '{spec[position]}'")
                values.append(f"WHEN {bits} THEN {_key_sql(spec[position])}")
        dim_sql = f"CASE {mask} {' '.join(dims)} ELSE '' END" if dims else "''"
        key_sql = f"CASE {mask} {' '.join(values)} ELSE '' END" if values else "''"
        columns += [dim_sql, key_sql]
    return f"GROUPING SETS ({sets})", columns


def _insert_statements(where: str) -> list[str]:
    """INSERT … SELECT … GROUP BY statements that rebuild DailyRollup, every slice and HandlingRollup
    from CaseFact for the received dates `where` selects (a condition on f.received_date, or TRUE).
    PostgreSQL reads the facts once per table (GROUPING SETS); SQLite once per slice."""
    q = connection.ops.quote_name
    facts = q(CaseFact._meta.db_table)
    measures, sums = _measures_sql()
    fine = list(GROUP_FIELDS)
    statements = [
        f"INSERT INTO {q(DailyRollup._meta.db_table)} (date, {', '.join(fine + measures)}) "  # noqa: S608 (our names)
        f"SELECT f.received_date, {', '.join('f.' + c for c in fine)}, {', '.join(sums)} FROM {facts} f "
        f"WHERE f.merged = %(no)s AND {where} GROUP BY f.received_date, {', '.join('f.' + c for c in fine)}"
    ]
    columns = ", ".join(["date", "dim_a", "key_a", "dim_b", "key_b", *measures])
    buckets, bucket_sums = _bucket_sql()
    handling_columns = ", ".join(["date", "dim", "key", *buckets])
    resolved = f"FROM {facts} f WHERE f.merged = %(no)s AND f.resolved = %(yes)s AND {where}"
    if connection.vendor == "postgresql":
        group, named = _grouping_sets(SLICES, 2)
        statements.append(
            f"INSERT INTO {q(DailySlice._meta.db_table)} ({columns}) "  # noqa: S608 (our names)
            f"SELECT f.received_date, {', '.join(named)}, {', '.join(sums)} "
            f"FROM {facts} f WHERE f.merged = %(no)s AND {where} GROUP BY {group}"
        )
        group, named = _grouping_sets(HANDLING_SLICES, 1)
        statements.append(
            f"INSERT INTO {q(HandlingRollup._meta.db_table)} ({handling_columns}) "
            f"SELECT f.received_date, {', '.join(named)}, {', '.join(bucket_sums)} {resolved} GROUP BY {group}"
        )
        return statements
    for dims in SLICES:
        a, b = (*dims, "", "")[:2]
        key_a = _key_sql(a) if a else "''"
        key_b = _key_sql(b) if b else "''"
        group = ", ".join(["f.received_date", *(_key_sql(d) for d in dims)])
        statements.append(
            f"INSERT INTO {q(DailySlice._meta.db_table)} ({columns}) "  # noqa: S608 (our names)
            f"SELECT f.received_date, '{a}', {key_a}, '{b}', {key_b}, {', '.join(sums)} "
            f"FROM {facts} f WHERE f.merged = %(no)s AND {where} GROUP BY {group}"
        )
    for dims in HANDLING_SLICES:
        dim = dims[0] if dims else ""
        key = _key_sql(dim) if dim else "''"
        group = ", ".join(["f.received_date", *(_key_sql(d) for d in dims)])
        statements.append(
            f"INSERT INTO {q(HandlingRollup._meta.db_table)} ({handling_columns}) "
            f"SELECT f.received_date, '{dim}', {key}, {', '.join(bucket_sums)} {resolved} GROUP BY {group}"
        )
    return statements


def _tune_for_rebuild(cursor: Any) -> None:
    """PostgreSQL, for the rest of the transaction: no JIT (compiling the slices' GROUPING SETS with its
    hundreds of SUM(CASE …) took longer, 4.4 s, than running them) and room to sort and hash in memory."""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")


def rebuild_days(days: Iterable[date] | None) -> int:
    """Rebuild the DailyRollup, DailySlice and HandlingRollup rows of these received dates from CaseFact
    (a superset of the groups touched: a date's facts are few and indexed); None rebuilds every date.
    Returns the DailyRollup rows written."""
    written = 0
    with connection.cursor() as cursor:
        if days is None:
            with transaction.atomic():
                _tune_for_rebuild(cursor)
                for model in (DailyRollup, DailySlice, HandlingRollup):
                    model.objects.all().delete()
                for statement in _insert_statements("1 = 1"):
                    cursor.execute(statement, {"no": False, "yes": True})
            return DailyRollup.objects.count()
        ordered = sorted(set(days))
        for i in range(0, len(ordered), 50):
            chunk = ordered[i : i + 50]
            where = "f.received_date IN (" + ", ".join(f"%(d{n})s" for n in range(len(chunk))) + ")"
            params: dict[str, Any] = {"no": False, "yes": True, **{f"d{n}": day for n, day in enumerate(chunk)}}
            with transaction.atomic():
                _tune_for_rebuild(cursor)
                for model in (DailyRollup, DailySlice, HandlingRollup):
                    model.objects.filter(date__in=chunk).delete()
                statements = _insert_statements(where)
                cursor.execute(statements[0], params)
                written += max(cursor.rowcount, 0)
                for statement in statements[1:]:
                    cursor.execute(statement, params)
    return written


BUSY = {"busy": 1}


def _lock_cursor() -> RollupCursor | None:
    """Take the job's cursor row for the rest of the transaction, or None when another worker holds it.

    One round at a time: two rounds at once would race on DailyRollup's delete-and-insert (under READ
    COMMITTED both see the rows gone and both insert), on CaseFact's primary key, and on the cursor.
    PostgreSQL: the row lock, skipped rather than waited for (the other round does the work). SQLite
    ignores select_for_update, but its transactions BEGIN IMMEDIATE (config.settings), which already
    serialises writers: the second round waits and then finds little left to do."""
    RollupCursor.objects.get_or_create(name=CURSOR)
    return RollupCursor.objects.select_for_update(skip_locked=True).filter(name=CURSOR).first()


def _advance(cursor: RollupCursor, event_id: int, event_at: Any) -> None:
    """Move the cursor forwards only (a backfill that started earlier must not rewind it)."""
    if cursor.last_event_at is not None and (event_at is None or event_at < cursor.last_event_at):
        event_at = cursor.last_event_at
    RollupCursor.objects.filter(name=CURSOR).update(
        last_event_id=max(event_id, cursor.last_event_id), last_event_at=event_at, updated_at=timezone.now()
    )


def catch_up() -> dict[str, int]:
    """The "rollups" job: process the ledger events after the cursor (and the rescan window).
    Returns {"busy": 1} without doing anything when another round (or a backfill) is running."""
    with transaction.atomic():
        cursor = _lock_cursor()
        if cursor is None:
            return dict(BUSY)
        return _catch_up(cursor)


def _catch_up(cursor: RollupCursor) -> dict[str, int]:
    events = LedgerEvent.objects.all()
    if cursor.last_event_at is not None:
        events = events.filter(Q(id__gt=cursor.last_event_id) | Q(created_at__gte=cursor.last_event_at - RESCAN))
    # Two aggregates inside the database, not a loop over every event in Python (issue 8: catch-up).
    seen = events.aggregate(n=Count("id"), top_id=Max("id"), top_at=Max("created_at"))
    top_id = max(cursor.last_event_id, seen["top_id"] or 0)
    top_at = cursor.last_event_at
    if seen["top_at"] is not None and (top_at is None or seen["top_at"] > top_at):
        top_at = seen["top_at"]
    writes = events
    for prefix in NEUTRAL_PREFIXES:
        writes = writes.exclude(action__startswith=prefix)  # views, exports, resends change no fact
    seqs = dict(writes.values("complaint_id").annotate(seq=Max("seq")).order_by().values_list("complaint_id", "seq"))
    if seqs:
        known = {}
        ids = list(seqs)
        for i in range(0, len(ids), BATCH):
            known.update(CaseFact.objects.filter(pk__in=_ids(ids[i : i + BATCH])).values_list("pk", "last_seq"))
        seqs = {cid: seq for cid, seq in seqs.items() if seq > known.get(cid, 0)}
    dates = refresh_cases(seqs) if seqs else set()
    rows = rebuild_days(dates) if dates else 0
    _advance(cursor, top_id, top_at)
    return {"events": seen["n"], "cases": len(seqs), "days": len(dates), "rows": rows}


def backfill() -> dict[str, int]:
    """Rebuild everything from the complaints (complaintdesk backfill_rollups), holding the job's lock.
    Returns {"busy": 1} when a round of the job is running (try again)."""
    with transaction.atomic():
        cursor = _lock_cursor()
        if cursor is None:
            return dict(BUSY)
        top = LedgerEvent.objects.aggregate(id=Max("id"), at=Max("created_at"))
        seqs = dict(
            LedgerEvent.objects.values("complaint_id")
            .annotate(seq=Max("seq"))
            .order_by()
            .values_list("complaint_id", "seq")
        )
        CaseFact.objects.all().delete()
        refresh_cases(seqs)
        days = CaseFact.objects.values("received_date").distinct().count()
        rows = rebuild_days(None)
        _advance(cursor, top["id"] or 0, top["at"])
    return {"cases": len(seqs), "days": days, "rows": rows}
