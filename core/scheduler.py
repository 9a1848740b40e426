"""The worker's scheduler loop: periodic jobs (SLA tick, ledger checkpoint, housekeeping).

A small loop of our own (DESIGN.md §10). Several workers may run it at once: every job is safe to
run concurrently (row locks, unique checkpoint sequence), so no leader election is needed."""

import logging
import socket
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

log = logging.getLogger("complaintdesk.scheduler")


def heartbeat(name: str) -> None:
    from .models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})


def jobs() -> list[tuple[str, Callable[[], object]]]:
    from complaints.actions import sla_tick
    from intake import idempotency
    from intelligence import forecast, similar
    from investigation.actions import notify_overdue
    from ledger import chain
    from resolutions.actions import expire_offers

    from . import ratelimit

    return [
        ("sla_tick", sla_tick),
        ("ledger_checkpoint", chain.seal),
        ("purge_idempotency", idempotency.purge),
        ("purge_rate_counters", ratelimit.purge),
        ("similarity_index", similar.update),
        ("coordination_tasks_overdue", notify_overdue),
        ("expire_offers", expire_offers),
        ("detect_spikes", forecast.detect_spikes),
        # --- issue 6 apps: each app adds its jobs through its own function ---
        *_app_jobs("notifications.jobs"),
        *_app_jobs("feedback.jobs"),
        *_app_jobs("customers.jobs"),
        *_app_jobs("privacy.jobs"),
        *_app_jobs("analytics.jobs"),
        *_app_jobs("reports.jobs"),
        *_app_jobs("improvement.jobs"),
        # --- end issue 6 apps ---
    ]


def _app_jobs(module: str) -> list[tuple[str, Callable[[], object]]]:
    """An app's periodic jobs: its module's JOBS list of (name, function), when it has one."""
    from importlib import import_module
    from importlib.util import find_spec

    if find_spec(module) is None:
        return []
    return list(import_module(module).JOBS)


def run_once(name: str) -> dict[str, object]:
    results: dict[str, object] = {}
    heartbeat(name)
    for job_name, job in jobs():
        try:
            results[job_name] = job()
        except Exception:  # one failing job must not stop the others or the loop
            log.exception("scheduled job %s failed", job_name)
            results[job_name] = "error"
    return results


def loop(stop: threading.Event, interval: float | None = None) -> None:
    interval = interval or settings.COMPLAINTDESK_SCHEDULER_INTERVAL_SECONDS
    name = f"{socket.gethostname()}:{threading.get_native_id()}"
    while not stop.is_set():
        started = time.monotonic()
        close_old_connections()
        try:
            run_once(name)
        except Exception:
            log.exception("scheduler round failed")
        finally:
            close_old_connections()
        stop.wait(max(1.0, interval - (time.monotonic() - started)))
