from datetime import timedelta

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from .models import WorkerHeartbeat

WORKER_STALE_AFTER = timedelta(minutes=3)


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """The database answers and a worker has been seen lately."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        beat = WorkerHeartbeat.objects.order_by("-seen_at").first()
        if beat is None:
            checks["worker"] = "never seen"
        elif timezone.now() - beat.seen_at > WORKER_STALE_AFTER:
            checks["worker"] = f"last seen {beat.seen_at.isoformat()}"
        else:
            checks["worker"] = "ok"
    except Exception as exc:  # the point is to report any failure, not to raise it
        checks["database"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)
