"""Which API token scope an endpoint needs (the table in docs/security.md).

- `intake`: registering a complaint for a consumer, `POST /api/v1/complaints` with a token;
- `analytics`: `/analytics/…`, `/reports/…` and the aggregate reads (forecast, spikes, satisfaction);
- `read`: every other GET (HEAD, OPTIONS) on the staff endpoints;
- `write`: every other method on the staff endpoints.
The public endpoints (the consumer's own case, surveys, the platform webhooks, the schema) need none:
they do not take a token. The token's user's roles still decide what the request may do."""

from .choices import Scope

API_PREFIX = "/api/v1/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Paths (after /api/v1) that take no token.
PUBLIC_PREFIXES = ("/public/", "/intake/webhooks/", "/openapi.json", "/docs")
ANALYTICS_PREFIXES = ("/analytics/", "/reports/")
# Aggregate reads, no case content: an analytics token may read them.
ANALYTICS_READS = frozenset({"/intelligence/forecast", "/intelligence/spikes", "/feedback/satisfaction"})


def required_scope(method: str, path: str) -> str | None:
    if not path.startswith(API_PREFIX):
        return None
    rest = path[len(API_PREFIX) - 1 :]
    method = method.upper()
    if rest.startswith(PUBLIC_PREFIXES):
        return None
    if rest.rstrip("/") == "/complaints" and method == "POST":
        return Scope.INTAKE
    if rest.startswith(ANALYTICS_PREFIXES) or (method in SAFE_METHODS and rest.rstrip("/") in ANALYTICS_READS):
        return Scope.ANALYTICS
    return Scope.READ if method in SAFE_METHODS else Scope.WRITE
