"""Periodic jobs of the risk app (core.scheduler loads JOBS). The scheduler calls every job each
minute; assess_all works once a day and returns at once otherwise."""

from .actions import assess_all

JOBS = [("risk_assess", assess_all)]
