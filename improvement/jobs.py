"""Periodic jobs of the improvement app (core.scheduler loads JOBS)."""

from .actions import notify_overdue_plans

JOBS = [("improvement_overdue_plans", notify_overdue_plans)]
