"""SLA clocks: acknowledgement in clock hours, resolution in working days (DESIGN.md §4).

Acknowledgement (the accept/reject decision told to the consumer) is due 24 clock hours after
receipt, 2 hours once a complaint is P1. Resolution is due at the end of the N-th working day after
acceptance (P1 1, P2 3, P3 7, P4 15 by default), or on a regulator's own due date. The resolution
clock pauses while the case awaits the consumer (or is in an external procedure); on resumption
the deadlines move on by the working time spent paused.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from core import configcache

from . import calendar
from .choices import OPEN_STATES, PAUSED_STATES, Priority, SlaState, Status
from .models import Complaint, SlaPolicy


@dataclass(frozen=True)
class Policy:
    ack_hours: int
    resolution_working_days: int
    warn_ratio: Decimal


DEFAULTS = {
    Priority.P1: Policy(2, 1, Decimal("0.80")),
    Priority.P2: Policy(24, 3, Decimal("0.80")),
    Priority.P3: Policy(24, 7, Decimal("0.80")),
    Priority.P4: Policy(24, 15, Decimal("0.80")),
}


def policy_for(priority: str, channel: str) -> Policy:
    rows = configcache.cached(
        ("sla_policy", priority, channel),
        lambda: {
            row.channel: row for row in SlaPolicy.objects.filter(Q(channel="") | Q(channel=channel), priority=priority)
        },
    )
    row = rows.get(channel) or rows.get("")
    if row is None:
        return DEFAULTS[Priority(priority)]
    return Policy(row.ack_hours, row.resolution_working_days, row.warn_ratio)


def set_ack_clock(complaint: Complaint) -> None:
    policy = policy_for(complaint.priority, complaint.channel)
    span = timedelta(hours=policy.ack_hours)
    complaint.ack_due_at = complaint.received_at + span
    complaint.ack_warn_at = complaint.received_at + span * float(policy.warn_ratio)


def restart_ack_clock(complaint: Complaint, start: datetime) -> None:
    """An appealed rejection is a new decision to make: the acknowledgement clock starts again."""
    policy = policy_for(complaint.priority, complaint.channel)
    span = timedelta(hours=policy.ack_hours)
    complaint.ack_due_at = start + span
    complaint.ack_warn_at = start + span * float(policy.warn_ratio)
    complaint.ack_warned_at = complaint.ack_breached_at = None


def reprioritise_ack_clock(complaint: Complaint, now: datetime) -> None:
    """A new priority before acknowledgement. The clock counts from receipt, but a case marked P1
    later gets its 2 hours from the marking ("2 hours once a complaint is marked P1"), and never
    more than it had."""
    previous_due = complaint.ack_due_at
    set_ack_clock(complaint)
    policy = policy_for(complaint.priority, complaint.channel)
    span = timedelta(hours=policy.ack_hours)
    if complaint.ack_due_at < now:
        due = now + span if previous_due is None else min(previous_due, now + span)
        complaint.ack_due_at = due
        complaint.ack_warn_at = due - span * (1 - float(policy.warn_ratio))
    if complaint.ack_due_at > now:
        complaint.ack_breached_at = None
    if complaint.ack_warn_at > now:
        complaint.ack_warned_at = None


def start_resolution_clock(complaint: Complaint, start: datetime) -> None:
    policy = policy_for(complaint.priority, complaint.channel)
    due = complaint.regulator_due_at or calendar.add_working_days(start, policy.resolution_working_days)
    span = calendar.working_seconds_between(start, due)
    complaint.resolution_clock_start = start
    complaint.sla_paused_seconds = 0
    complaint.resolution_due_at = due
    # Capped at the deadline: a regulator's due date may already have passed.
    complaint.resolution_warn_at = min(calendar.add_working_seconds(start, span * float(policy.warn_ratio)), due)
    complaint.resolution_warned_at = None
    complaint.resolution_breached_at = None
    complaint.sla_paused_at = None


def recompute_resolution_clock(complaint: Complaint, now: datetime) -> None:
    """After a priority change: the new policy from the same start, plus the time already paused.
    A warning or breach already acted on stays acted on while the new deadline has passed too, so a
    priority change never escalates the case a second time for the same lateness."""
    start = complaint.resolution_clock_start or complaint.accepted_at
    if start is None:
        return
    paused_since, paused_total = complaint.sla_paused_at, complaint.sla_paused_seconds
    warned, breached = complaint.resolution_warned_at, complaint.resolution_breached_at
    start_resolution_clock(complaint, start)
    if paused_total:
        complaint.resolution_due_at = calendar.add_working_seconds(complaint.resolution_due_at, paused_total)
        complaint.resolution_warn_at = calendar.add_working_seconds(complaint.resolution_warn_at, paused_total)
    complaint.sla_paused_seconds = paused_total
    complaint.sla_paused_at = paused_since
    if warned is not None and complaint.resolution_warn_at <= now:
        complaint.resolution_warned_at = warned
    if breached is not None and complaint.resolution_due_at < now:
        complaint.resolution_breached_at = breached


def pause(complaint: Complaint, now: datetime) -> None:
    if complaint.sla_paused_at is None:
        complaint.sla_paused_at = now


def resume(complaint: Complaint, now: datetime) -> None:
    """Move the deadlines on by the working time the clock stood still (whole seconds)."""
    if complaint.sla_paused_at is None:
        return
    paused = round(calendar.working_seconds_between(complaint.sla_paused_at, now))
    if complaint.resolution_due_at is not None and paused > 0:
        complaint.resolution_due_at = calendar.add_working_seconds(complaint.resolution_due_at, paused)
        if complaint.resolution_warn_at is not None and complaint.resolution_warned_at is None:
            complaint.resolution_warn_at = calendar.add_working_seconds(complaint.resolution_warn_at, paused)
        complaint.sla_paused_seconds += paused
    complaint.sla_paused_at = None


def state(complaint: Complaint, now: datetime | None = None) -> str:
    """The SLA state shown in queues: the clock that currently runs, warning or breached."""
    now = now or timezone.now()
    if complaint.status not in OPEN_STATES:
        return SlaState.STOPPED
    if complaint.status in PAUSED_STATES:
        return SlaState.PAUSED
    if complaint.acknowledged_at is None and complaint.status == Status.NEW:
        due, warn = complaint.ack_due_at, complaint.ack_warn_at
    else:
        due, warn = complaint.resolution_due_at, complaint.resolution_warn_at
    if due is not None and now > due:
        return SlaState.BREACHED
    if warn is not None and now >= warn:
        return SlaState.WARNING
    return SlaState.ON_TRACK


def state_filter(sla_state: str, now: datetime | None = None) -> Q:
    """The same rule as `state`, as a query (for list filters)."""
    now = now or timezone.now()
    open_q = Q(status__in=OPEN_STATES)
    running = open_q & ~Q(status__in=PAUSED_STATES)
    ack = Q(status=Status.NEW, acknowledged_at__isnull=True)
    if sla_state == SlaState.STOPPED:
        return ~open_q
    if sla_state == SlaState.PAUSED:
        return Q(status__in=PAUSED_STATES)
    breached = running & ((ack & Q(ack_due_at__lt=now)) | (~ack & Q(resolution_due_at__lt=now)))
    if sla_state == SlaState.BREACHED:
        return breached
    warning = running & (
        (ack & Q(ack_warn_at__lte=now, ack_due_at__gte=now))
        | (~ack & Q(resolution_warn_at__lte=now, resolution_due_at__gte=now))
    )
    if sla_state == SlaState.WARNING:
        return warning
    return running & ~breached & ~warning
