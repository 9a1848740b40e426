"""Prometheus metrics at /metrics (issue 9, operations; docs/operations.md, "Monitoring").

- Requests and latencies: counted by core.observability in each server process. Under gunicorn's several
  processes, prometheus_client's multi-process mode adds them up (`complaintdesk serve` sets
  PROMETHEUS_MULTIPROC_DIR before the application is loaded); a single process (runserver, tests) uses
  the default registry.
- Queue depth, SLA breaches, the task outbox and the worker's last heartbeat: read from the database
  (and Redis) when scraped, so every process answers the same.

Who may read it: with COMPLAINTDESK_METRICS_TOKEN set, whoever sends it as a bearer token; without one,
only the loopback address (a Prometheus beside the server, or behind the same proxy)."""

import functools
import hmac
import ipaddress
import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# prometheus_client is imported on first use, not with this module: under gunicorn its multi-process
# mode must be chosen (PROMETHEUS_MULTIPROC_DIR, set by `serve`) before the first import, and the URL
# configuration, which imports this module, is loaded earlier (by the system checks).


@functools.cache
def _request_metrics() -> tuple[Any, Any]:
    from prometheus_client import Counter, Histogram

    requests = Counter("complaintdesk_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
    latency = Histogram(
        "complaintdesk_http_request_duration_seconds",
        "Time from the request's arrival to its response",
        ["method", "route"],
        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    )
    return requests, latency


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    if route == "metrics":
        return  # the scrape itself is not traffic
    requests, latency = _request_metrics()
    requests.labels(method, route, str(status)).inc()
    latency.labels(method, route).observe(seconds)


class StateCollector:
    """Gauges read from the database when scraped."""

    def collect(self) -> Iterator[Any]:
        from django.utils import timezone
        from prometheus_client.core import GaugeMetricFamily

        from complaints import sla
        from complaints.choices import SlaState
        from complaints.models import Complaint

        from .models import PendingTask, WorkerHeartbeat

        queue = GaugeMetricFamily("complaintdesk_task_queue_depth", "Tasks waiting or running", labels=["state"])
        for state, count in _queue_depth().items():
            queue.add_metric([state], count)
        yield queue
        yield GaugeMetricFamily(
            "complaintdesk_task_outbox_waiting",
            "Tasks the broker refused at commit, waiting to be handed over again (core.outbox)",
            value=PendingTask.objects.count(),
        )
        now = timezone.now()
        breaches = GaugeMetricFamily(
            "complaintdesk_sla_breached_cases", "Open cases past their SLA deadline now", labels=["clock"]
        )
        breached = Complaint.objects.filter(sla.state_filter(SlaState.BREACHED, now))
        unacknowledged = breached.filter(acknowledged_at__isnull=True, status="new").count()
        total = breached.count()
        breaches.add_metric(["acknowledgement"], unacknowledged)
        breaches.add_metric(["resolution"], total - unacknowledged)
        yield breaches
        beat = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
        yield GaugeMetricFamily(
            "complaintdesk_worker_heartbeat_age_seconds",
            "Seconds since a worker's scheduler loop last beat (-1: never)",
            value=(now - beat).total_seconds() if beat else -1,
        )


def _queue_depth() -> dict[str, int]:
    backend = settings.TASKS["default"]["BACKEND"]
    if "RQBackend" in backend:
        import django_rq

        queue = django_rq.get_queue("default")
        return {
            "waiting": queue.count,
            "running": queue.started_job_registry.count,
            "failed": queue.failed_job_registry.count,
        }
    if "DatabaseBackend" in backend:
        from django.db.models import Count
        from django_tasks_db.models import DBTaskResult

        counts = dict(
            DBTaskResult.objects.filter(status__in=["READY", "RUNNING", "FAILED"])
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        return {
            "waiting": counts.get("READY", 0),
            "running": counts.get("RUNNING", 0),
            "failed": counts.get("FAILED", 0),
        }
    return {"waiting": 0, "running": 0, "failed": 0}


def _allowed(request: HttpRequest) -> bool:
    token = str(getattr(settings, "COMPLAINTDESK_METRICS_TOKEN", "") or "")
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _registry() -> Any:
    from prometheus_client import REGISTRY, CollectorRegistry

    _request_metrics()  # registered even before the first request, so the series are declared
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    registry = _registry()
    body = generate_latest(registry)
    state = CollectorRegistry()
    state.register(StateCollector())
    body += generate_latest(state)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
