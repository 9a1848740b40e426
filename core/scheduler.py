"""The worker's scheduler loop: periodic jobs (SLA tick, ledger checkpoint, housekeeping).

A small loop of our own (DESIGN.md §10). Every job is safe to run concurrently (row locks, unique
checkpoint sequence), so with the database task backend every worker runs the loop as it is. With the
RQ backend (several workers on several machines, docs/operations.md) the jobs run in one place: the
worker that holds a lease in Redis runs them and renews it every round; the others only beat. When
the holder stops, another takes over (at once on a clean stop, when the lease lapses on a crash);
that the jobs tolerate a second runner covers a holder whose round outlasted its lease."""

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections
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

    from . import outbox, ratelimit

    return [
        ("sla_tick", sla_tick),
        ("ledger_checkpoint", chain.seal),
        ("purge_idempotency", idempotency.purge),
        ("purge_rate_counters", ratelimit.purge),
        ("requeue_pending_tasks", outbox.requeue_pending_tasks),
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
        *_app_jobs("risk.jobs"),
        *_app_jobs("ledger.jobs"),
        *_app_jobs("accounts.jobs"),
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


LEASE_KEY = "complaintdesk:scheduler-lease"
# Renew the lease only if this worker still holds it; release likewise (never another worker's lease).
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class Lease:
    """The right to run the periodic jobs, held in Redis by one worker at a time. The key's value names
    the holder (`redis-cli GET complaintdesk:scheduler-lease`)."""

    def __init__(self, client: Any, holder: str, seconds: float) -> None:
        self.client = client
        self.holder = holder
        self.ms = int(seconds * 1000)
        self.held = False
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def hold(self) -> bool:
        """Take the lease, or renew it when this worker holds it. False while another worker holds it,
        and while Redis cannot be reached (then nobody can take it, and nobody runs the jobs twice)."""
        from redis.exceptions import RedisError

        try:
            held = bool(self.client.set(LEASE_KEY, self.holder, nx=True, px=self.ms)) or bool(
                self._renew(keys=[LEASE_KEY], args=[self.holder, self.ms])
            )
        except RedisError as exc:
            log.warning("scheduler lease: Redis unreachable (%s); periodic jobs skipped this round", exc)
            held = False
        if held != self.held:
            log.info("scheduler lease %s by %s", "taken" if held else "lost", self.holder)
        self.held = held
        return held

    def release(self) -> None:
        """Give the lease up (a clean stop), so that another worker takes over at its next round."""
        from redis.exceptions import RedisError

        if self.held:
            try:
                self._release(keys=[LEASE_KEY], args=[self.holder])
            except RedisError:
                log.warning("scheduler lease: could not release; it lapses in %d s", self.ms // 1000)
            self.held = False


def lease_for(name: str, interval: float) -> Lease | None:
    """The lease this worker's loop must hold with the RQ backend; None with the database backend."""
    backend = settings.TASKS["default"]["BACKEND"]
    if "RQBackend" not in backend:
        return None
    import django_rq

    queue = (settings.TASKS["default"].get("QUEUES") or ["default"])[0]
    # Outlives two missed rounds: a slow round does not hand the jobs to a second worker.
    seconds = max(settings.COMPLAINTDESK_SCHEDULER_LEASE_SECONDS, 3 * interval)
    return Lease(django_rq.get_connection(queue), f"{name}:{os.getpid()}", seconds)


def tick(name: str, lease: Lease | None) -> dict[str, object] | None:
    """One round of the loop: the periodic jobs, or only this worker's heartbeat when another worker
    holds the lease."""
    if lease is None or lease.hold():
        return run_once(name)
    heartbeat(name)
    return None


def loop(stop: threading.Event, interval: float | None = None) -> None:
    interval = interval or settings.COMPLAINTDESK_SCHEDULER_INTERVAL_SECONDS
    name = f"{socket.gethostname()}:{threading.get_native_id()}"
    lease = lease_for(name, interval)
    try:
        while not stop.is_set():
            started = time.monotonic()
            close_old_connections()
            try:
                tick(name, lease)
            except Exception:
                log.exception("scheduler round failed")
            finally:
                close_old_connections()
            stop.wait(max(1.0, interval - (time.monotonic() - started)))
    finally:
        if lease is not None:
            lease.release()
        connections.close_all()  # this thread's; the process may go on (tests, a stopping worker)
