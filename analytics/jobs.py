"""Periodic jobs of the analytics app (core.scheduler loads JOBS)."""

from .rollups import catch_up

JOBS = [("rollups", catch_up)]
