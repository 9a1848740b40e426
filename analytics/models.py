"""Analysis tables kept current by the "rollups" job (analytics.rollups) and never written elsewhere.

CaseFact holds one row per complaint with everything the KPIs of DESIGN.md §8 need; DailyRollup holds
counts and sums per (received date, category, product, org unit, region, channel, priority, outcome),
a key so fine that it has almost one row per case; DailySlice holds the same counts per received date
and at most two dimensions (the narrow rollups: analytics.rollups.SLICES) and HandlingRollup the
handling-time histogram per date and dimension, so that a dashboard reads O(days × values) rows
whatever the number of complaints. Dashboards read these tables only, never the complaints table.
"""

from bisect import bisect_right
from decimal import Decimal

from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce

# Edges (hours) of the handling-time buckets a DailySlice row counts, for the histograms and for
# locating the p90 before it is read exactly from CaseFact (analytics.selectors.percentiles). The
# dashboard's histogram edges are a subset of these.
HANDLING_EDGES = (0, 1, 2, 4, 8, 12, 16, 24, 32, 40, 48, 60, 72, 96, 120, 168, 240, 360, 480, 720, 1440)
_EDGE_SECONDS = tuple(edge * 3600 for edge in HANDLING_EDGES)


def handling_bucket(seconds: float | None) -> int | None:
    """The index of the HANDLING_EDGES bucket holding this handling time (None: not resolved)."""
    if seconds is None:
        return None
    return max(bisect_right(_EDGE_SECONDS, seconds) - 1, 0)


class RollupCursor(models.Model):
    """How far the job got: the highest ledger event id processed and when it ran."""

    name = models.CharField(max_length=40, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)
    # The created_at of the last event seen; the next round rescans events created after this minus
    # RESCAN, so that an event whose id was taken early but committed late is not lost.
    last_event_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)


class CaseFact(models.Model):
    complaint = models.OneToOneField(
        "complaints.Complaint", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    tracking_no = models.CharField(max_length=24)
    received_date = models.DateField()  # in the organisation's time zone
    category = models.ForeignKey(
        "complaints.Category", null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    subcategory = models.ForeignKey(
        "complaints.Category", null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    product = models.CharField(max_length=200, blank=True)  # the SKU, else the model, else the product name
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    region = models.CharField(max_length=6, blank=True)  # GB/T 2260 province code, else the US state
    channel = models.CharField(max_length=30)
    priority = models.CharField(max_length=2)
    department = models.ForeignKey(
        "accounts.Department", null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    owner = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    status = models.CharField(max_length=30)
    outcome = models.CharField(max_length=20, blank=True)
    merged = models.BooleanField(default=False)
    acknowledged = models.BooleanField(default=False)
    ack_in_sla = models.BooleanField(default=False)
    resolved = models.BooleanField(default=False)
    resolved_date = models.DateField(null=True)
    resolved_in_sla = models.BooleanField(default=False)
    closed = models.BooleanField(default=False)  # closed now (closed, or archived after closing)
    ever_closed = models.BooleanField(default=False)  # closed now, or closed once and reopened since
    closed_resolved = models.BooleanField(default=False)  # closed, outcome accepted/executed or a remedy paid
    closed_with_remedy = models.BooleanField(default=False)  # closed with at least one remedy paid
    reopen_count = models.PositiveSmallIntegerField(default=0)
    escalation_max = models.PositiveSmallIntegerField(default=0)  # the highest level the case ever reached
    handling_working_seconds = models.FloatField(null=True)  # receipt → resolution, working hours only
    handling_calendar_seconds = models.FloatField(null=True)  # receipt → resolution, clock time
    compensation_paid = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))  # CNY only
    survey_score = models.PositiveSmallIntegerField(null=True)  # the "outcome" answer, 1–5
    last_seq = models.PositiveIntegerField(default=0)  # the case's latest ledger event reflected here
    refreshed_at = models.DateTimeField()
    # handling_bucket() of the two handling times: the exact p90 is read from one bucket's rows only.
    working_bucket = models.PositiveSmallIntegerField(null=True)
    calendar_bucket = models.PositiveSmallIntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["received_date"]),
            models.Index(fields=["department", "received_date"]),
            models.Index(fields=["owner", "received_date"]),
            models.Index(fields=["org_unit", "received_date"]),
            models.Index(fields=["category", "received_date"]),
            models.Index(fields=["subcategory", "received_date"]),
            models.Index(fields=["received_date", "handling_working_seconds"]),
            models.Index(fields=["product"]),
            # The p90's read of one bucket: on PostgreSQL an index-only scan for the usual filters.
            models.Index(
                fields=["working_bucket", "received_date"],
                include=["handling_working_seconds", "merged", "org_unit", "department", "category", "channel"],
                name="casefact_working_bucket",
            ),
            models.Index(
                fields=["calendar_bucket", "received_date"],
                include=["handling_calendar_seconds", "merged", "org_unit", "department", "category", "channel"],
                name="casefact_calendar_bucket",
            ),
        ]


class RollupSums(models.Model):
    """The counts and sums every rollup table holds for its group (DESIGN.md §8's KPIs come from them)."""

    received = models.IntegerField(default=0)
    acknowledged = models.IntegerField(default=0)
    ack_in_sla = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    resolved_in_sla = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    ever_closed = models.IntegerField(default=0)
    closed_resolved = models.IntegerField(default=0)
    closed_with_remedy = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    escalations = models.IntegerField(default=0)
    answers = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    handling_working_seconds = models.FloatField(default=0)
    handling_calendar_seconds = models.FloatField(default=0)
    compensation_paid = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))  # CNY only

    class Meta:
        abstract = True


class DailyRollup(RollupSums):
    date = models.DateField()  # the received date (org time zone) of the cases counted
    category = models.ForeignKey(
        "complaints.Category", null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    product = models.CharField(max_length=200, blank=True)
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    region = models.CharField(max_length=6, blank=True)
    channel = models.CharField(max_length=30)
    priority = models.CharField(max_length=2)
    outcome = models.CharField(max_length=20, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["date"]),
            models.Index(fields=["category", "date"]),
            models.Index(fields=["org_unit", "date"]),
            models.Index(fields=["channel", "date"]),
            models.Index(fields=["product", "date"]),
            models.Index(fields=["region", "date"]),
        ]
        constraints = [
            # One row per group. category and org_unit may be NULL, and NULLs are distinct in a plain
            # unique index on both databases, so the index is on COALESCE(…, 0) (ids start at 1).
            models.UniqueConstraint(
                "date",
                Coalesce("category", Value(0)),
                "product",
                Coalesce("org_unit", Value(0)),
                "region",
                "channel",
                "priority",
                "outcome",
                name="daily_rollup_one_row_per_group",
            ),
        ]


class DailySlice(RollupSums):
    """Counts and sums of the complaints received on one date, per value of at most two dimensions
    (dim_a before dim_b in analytics.rollups.DIMENSIONS order; "" for an unused one): the narrow
    rollups. Which ones are kept is analytics.rollups.SLICES; the selectors pick the slice that holds
    the filters and the dimension asked. Keys are text: an id for category, sub-category, org unit and
    department, the value itself for the others, "" for none."""

    date = models.DateField()
    dim_a = models.CharField(max_length=12, blank=True)
    key_a = models.CharField(max_length=200, blank=True)
    dim_b = models.CharField(max_length=12, blank=True)
    key_b = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["dim_a", "dim_b", "date"]),
            models.Index(fields=["dim_a", "dim_b", "key_b", "date"]),
            models.Index(fields=["date"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dim_a", "dim_b", "key_a", "key_b", "date"], name="daily_slice_one_row_per_group"
            ),
        ]


class HandlingRollup(models.Model):
    """Resolved complaints received on one date per handling-time bucket (HANDLING_EDGES), in working
    hours (working_0 … working_20) and calendar hours (calendar_0 … calendar_20, added below), for all
    cases (dim "") and per value of each single dimension (as DailySlice keys them): the histograms,
    and where the p90 lies before it is read exactly from CaseFact."""

    date = models.DateField()
    dim = models.CharField(max_length=12, blank=True)
    key = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["dim", "date"]), models.Index(fields=["date"])]
        constraints = [
            models.UniqueConstraint(fields=["dim", "key", "date"], name="handling_rollup_one_row_per_group"),
        ]


for _kind in ("working", "calendar"):
    for _i in range(len(HANDLING_EDGES)):
        HandlingRollup.add_to_class(f"{_kind}_{_i}", models.IntegerField(default=0))


class SalesVolume(models.Model):
    """Orders and revenue for one day (monthly figures go on the month's first day), for one product
    and/or org unit, imported from the sales system (analytics.sales). The denominators of the
    complaint rate (complaints per 10,000 orders) and of the rights-protection cost ratio
    (DESIGN.md §8). Importing the same (date, org unit, product) again replaces the figure."""

    date = models.DateField()
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # empty: the whole organisation
    product = models.CharField(max_length=200, blank=True)  # as CaseFact.product; empty: every product
    orders = models.PositiveIntegerField()
    revenue = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)  # CNY; None: unknown
    source = models.CharField(max_length=200, blank=True)  # the file or system it came from
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["date"]), models.Index(fields=["org_unit", "date"])]
        constraints = [
            models.UniqueConstraint(
                "date", Coalesce("org_unit", Value(0)), "product", name="sales_volume_one_row_per_key"
            ),
        ]
