"""Keeping CaseFact and DailyRollup current from the ledger (the "rollups" job) and rebuilding them.

Every change to a case is a ledger event, so the ledger is the change feed: each round reads the
events after the cursor, refreshes the fact row of every case they touched from the case's current
state, and rebuilds the DailyRollup rows of the received dates of those cases. An event id may be
taken early and committed late (ledger/chain.py): each round also rescans RESCAN before the last event
it saw, and refreshes a case only if the rescan shows a ledger seq newer than the one its fact reflects.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from complaints import calendar
from complaints.choices import Outcome, Status
from complaints.models import Complaint
from ledger.models import LedgerEvent

from .models import CaseFact, DailyRollup, RollupCursor

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
_READ_PREFIXES = ("view_", "download_", "export_")
GROUP_FIELDS = ("category_id", "product", "org_unit_id", "region", "channel", "priority", "outcome")


def _local_date(moment: Any) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def _facts_for(ids: list[int], seqs: dict[int, int], now: Any) -> list[CaseFact]:
    from feedback.models import SurveyAnswer
    from resolutions.choices import RemedyStatus
    from resolutions.models import Remedy

    complaints = Complaint.objects.filter(pk__in=ids).only(
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
        "acknowledged_at",
        "ack_due_at",
        "resolved_at",
        "resolution_due_at",
        "closed_at",
        "reopen_count",
        "escalation_level",
    )
    scores = dict(SurveyAnswer.objects.filter(complaint_id__in=ids).values_list("complaint_id", "outcome"))
    paid = {
        row["complaint_id"]: (row["n"], row["total"] or Decimal("0"))
        for row in Remedy.objects.filter(complaint_id__in=ids, status=RemedyStatus.PAID)
        .values("complaint_id")
        .annotate(n=Count("id"), total=Sum("amount", filter=Q(currency=CURRENCY)))
        .order_by()
    }
    escalated: dict[int, int] = {}
    for cid, changes in LedgerEvent.objects.filter(
        complaint_id__in=ids, changes__has_key="escalation_level"
    ).values_list("complaint_id", "changes"):
        pair = changes.get("escalation_level")
        if isinstance(pair, list) and pair and isinstance(pair[-1], int):
            escalated[cid] = max(escalated.get(cid, 0), pair[-1])
    facts = []
    for c in complaints:
        n_paid, amount = paid.get(c.pk, (0, Decimal("0")))
        resolved = c.resolved_at is not None
        # Archived straight from "rejected" has no closed_at: not a closed case.
        closed_now = c.status in CLOSED_STATES and c.closed_at is not None
        handling_w = handling_c = None
        if resolved:
            handling_c = max((c.resolved_at - c.received_at).total_seconds(), 0.0)
            handling_w = calendar.working_hours_between(c.received_at, c.resolved_at) * 3600
        facts.append(
            CaseFact(
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
                acknowledged=c.acknowledged_at is not None,
                ack_in_sla=c.acknowledged_at is not None
                and (c.ack_due_at is None or c.acknowledged_at <= c.ack_due_at),
                resolved=resolved,
                resolved_date=_local_date(c.resolved_at) if resolved else None,
                resolved_in_sla=resolved and (c.resolution_due_at is None or c.resolved_at <= c.resolution_due_at),
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
            dates.update(CaseFact.objects.filter(pk__in=batch).values_list("received_date", flat=True))
            CaseFact.objects.filter(pk__in=batch).delete()
            CaseFact.objects.bulk_create(facts, batch_size=BATCH)
        dates.update(f.received_date for f in facts)
    return dates


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


def rebuild_days(days: Iterable[date]) -> int:
    """Rebuild the DailyRollup rows of these received dates from CaseFact (a superset of the groups
    touched: a date's facts are few and indexed). Returns the rows written."""
    written = 0
    ordered = sorted(set(days))
    for i in range(0, len(ordered), 50):
        chunk = ordered[i : i + 50]
        rows = (
            CaseFact.objects.filter(received_date__in=chunk, merged=False)
            .values("received_date", *GROUP_FIELDS)
            .annotate(**FACT_SUMS)
            .order_by()
        )
        objects = []
        for row in rows:
            day = row.pop("received_date")
            for key in ("handling_working_seconds", "handling_calendar_seconds"):
                row[key] = row[key] or 0.0
            row["compensation_paid"] = row["compensation_paid"] or Decimal("0")
            objects.append(DailyRollup(date=day, **row))
        with transaction.atomic():
            DailyRollup.objects.filter(date__in=chunk).delete()
            DailyRollup.objects.bulk_create(objects, batch_size=1000)
        written += len(objects)
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
    top_id, top_at = cursor.last_event_id, cursor.last_event_at
    seqs: dict[int, int] = {}
    seen = 0
    for event_id, cid, seq, action, created_at in events.values_list(
        "id", "complaint_id", "seq", "action", "created_at"
    ).iterator(chunk_size=5000):
        seen += 1
        top_id = max(top_id, event_id)
        top_at = created_at if top_at is None or created_at > top_at else top_at
        if action.startswith(_READ_PREFIXES):
            continue  # views and exports change nothing
        if seq > seqs.get(cid, 0):
            seqs[cid] = seq
    if seqs:
        known = {}
        ids = list(seqs)
        for i in range(0, len(ids), BATCH):
            known.update(CaseFact.objects.filter(pk__in=ids[i : i + BATCH]).values_list("pk", "last_seq"))
        seqs = {cid: seq for cid, seq in seqs.items() if seq > known.get(cid, 0)}
    dates = refresh_cases(seqs) if seqs else set()
    rows = rebuild_days(dates) if dates else 0
    _advance(cursor, top_id, top_at)
    return {"events": seen, "cases": len(seqs), "days": len(dates), "rows": rows}


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
        DailyRollup.objects.all().delete()
        refresh_cases(seqs)
        days = set(CaseFact.objects.values_list("received_date", flat=True).distinct())
        rows = rebuild_days(days)
        _advance(cursor, top["id"] or 0, top["at"])
    return {"cases": len(seqs), "days": len(days), "rows": rows}
