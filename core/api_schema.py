"""The API's error answers in its OpenAPI document (`/api/v1/openapi.json`).

Every endpoint's errors come from the shared handlers in core.api_errors, one envelope per kind, so
they are documented here once, from what each operation is: any → 422, a path parameter → 404, a
login → 401/403, a write → 409/412, no login → 429 (the public endpoints are rate-limited), an
upload → 413. An endpoint with answers of its own (201, 410, a survey link's 400) declares them with
`openapi_extra=documented(...)`. The schemathesis run in core/tests/test_api_schema.py holds every
answer to this document."""

from collections.abc import Callable
from typing import Any

from ninja import NinjaAPI

ERROR = "#/components/schemas/Error"
VALIDATION_ERRORS = "#/components/schemas/ValidationErrors"

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "title": "Error",
        "description": "A refusal: a stable code and a message in the request's language; some carry more "
        "(the case's state and the actions allowed in it, the current version).",
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
        "required": ["error", "message"],
    },
    "ValidationErrors": {
        "type": "object",
        "title": "ValidationErrors",
        "description": "Input that can be corrected: one entry per field, each with a message a user can act on.",
        "properties": {
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "field": {"type": "string"},
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                    },
                    "required": ["field", "code", "message"],
                },
            }
        },
        "required": ["errors"],
    },
}

DESCRIPTIONS = {
    400: "The request could not be read (a forged or damaged link, a body that is not JSON)",
    401: "Not logged in, or the token is missing, wrong, revoked or expired",
    403: "The caller's roles do not allow this",
    404: "No such resource, or none the caller may see",
    409: "Not allowed in the current state, or already done",
    410: "Gone: expired, withdrawn or deleted after its retention period",
    412: "If-Match names an older version of the case",
    413: "The request body is over the size limit",
    422: "Input errors, each naming its field",
    429: "Too many requests from this address; Retry-After says when to try again",
    503: "Temporarily unavailable",
}


def error_response(status: int) -> dict[str, Any]:
    reference = VALIDATION_ERRORS if status == 422 else ERROR
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": reference}}},
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {"description": "Seconds until the next window", "schema": {"type": "integer"}}
        }
    return response


# Marks an operation whose success is 201 only: the 200 that ninja assumes is dropped (and the mark).
_CREATED_ONLY = "x-created-only"


def documented(*statuses: int, created: str = "", ok: bool = True, **extra: Any) -> dict[str, Any]:
    """`openapi_extra` for an endpoint with answers of its own: error statuses, and with `created`
    a 201 (described by that text); `ok=False` when it never answers 200. `extra` goes in as it is
    (e.g. `parameters`)."""
    responses: dict[int, Any] = {status: error_response(status) for status in statuses}
    if created:
        responses[201] = {"description": created}
    result: dict[str, Any] = {**extra, "responses": responses}
    if not ok:
        result[_CREATED_ONLY] = True
    return result


def _has(responses: dict[Any, Any], status: int) -> bool:
    return status in responses or str(status) in responses


def _errors_of(method: str, operation: dict[str, Any]) -> list[int]:
    parameters = operation.get("parameters") or []
    body = operation.get("requestBody") or {}
    # Every operation: some read their query or body themselves (filters, exports), beyond the schema.
    statuses = [422]
    if any(p.get("in") == "path" for p in parameters):
        statuses.append(404)
    if operation.get("security"):
        statuses += [401, 403]
    else:
        statuses.append(429)
    if method != "get":
        statuses += [409, 412] if operation.get("security") else [409]
    if "multipart/form-data" in body.get("content", {}):
        statuses.append(413)
    return statuses


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the shared error answers to every operation of a generated schema (in place)."""
    schema.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in _errors_of(method, operation):
                if not _has(responses, status):
                    responses[status] = error_response(status)
            if operation.pop(_CREATED_ONLY, False):
                responses.pop(200, None)
                responses.pop("200", None)
    return schema


def install(api: NinjaAPI) -> None:
    """Document the shared error answers in the API's OpenAPI schema (`core.api_errors.install`)."""
    generate: Callable[..., Any] = api.get_openapi_schema

    def get_openapi_schema(*args: Any, **kwargs: Any) -> Any:
        return document_errors(generate(*args, **kwargs))

    api.get_openapi_schema = get_openapi_schema  # type: ignore[method-assign]
