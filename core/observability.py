"""Request ids, structured logs and request metrics (issue 9, operations; docs/operations.md).

Every request gets an id: the `X-Request-ID` a proxy or client sent when it looks like one, else a new
one. It is answered in the response's `X-Request-ID`, attached to every log record written while the
request runs (`RequestIdFilter`, so the JSON logs of one request can be found together) and to one
access line per request on the `complaintdesk.request` logger. The same middleware counts requests and
times them for Prometheus (core.metrics), labelled by the URL pattern, never by the raw path (no
tracking numbers or other personal data in metric labels, and a bounded number of series)."""

import logging
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

request_id: ContextVar[str] = ContextVar("complaintdesk_request_id", default="")

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
access_log = logging.getLogger("complaintdesk.request")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (empty outside a request: the worker, commands)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id.get()
        return True


def route_of(request: HttpRequest) -> str:
    """The URL pattern that served the request (`api/v1/complaints/{tracking_no}`), or a fixed label."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unmatched>"
    route = match.route or match.view_name or "<unnamed>"
    return route[:120]


class RequestObservability:
    """The request id, the access log line and the request metrics, in one middleware placed first."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        rid = given if _VALID_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        request.request_id = rid  # type: ignore[attr-defined]
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        elapsed = time.perf_counter() - started
        response["X-Request-ID"] = rid
        route = route_of(request)
        from . import metrics

        metrics.observe_request(request.method or "", route, response.status_code, elapsed)
        user = getattr(request, "user", None)
        access_log.info(
            "%s %s %s %.1f ms",
            request.method,
            route,
            response.status_code,
            elapsed * 1000,
            extra={
                "request_id": rid,
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 1),
                "user_id": user.pk if user is not None and getattr(user, "is_authenticated", False) else None,
            },
        )
        return response
