"""Schemathesis against `/api/v1/openapi.json` (issue 9 item 5), in process: the WSGI application, no
server. Every operation of the schema gets a few generated requests, as a staff user with broad rights
(token) or, for the public ones, anonymously; half of them aim at a real case, its access code and
its evidence instead of generated identifiers, so that the requests reach the code behind the 404.
Checks: no 5xx, the status code is documented, the content type and the body match the schema.

Hypothesis runs derandomized (the same requests on every run, so CI is reproducible) with a handful of
examples per operation: the suite runs twice (SQLite and PostgreSQL) and this test must stay cheap."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.choices import Role
from accounts.models import ApiToken, User
from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from config.api import api
from conftest import Org, complaint_body, make_user
from evidence.actions import add_evidence
from evidence.choices import EvidenceKind, Via

EXAMPLES = 5
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Operations left out of the run, each with its reason (none at present: add one only with a reason
# and an issue, never to make the test pass).
EXCLUDED: dict[str, str] = {}
# Operations that end a case or take it out of reach: they run last, so that the others meet a live
# case (a generated body is valid by the schema, so a generated withdrawal does withdraw).
TERMINAL = {
    "withdraw",
    "reject",
    "close",
    "archive",
    "merge",
    "erase",
    "resolve",
    "external",
    "consumer-accepted",
    "accept-proposal",
    "proceedings",
}

SCHEMA = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@contextmanager
def connection_kept() -> Iterator[None]:
    """Requests through the WSGI handler close the database connection at their end, and with it the
    test's transaction; Django's test client avoids the same by this very switch."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def broad_staff(org: Org) -> User:
    """Most rights a person can hold at once: every case of the company, legal, analysis, audit, admin."""
    return make_user(
        "broad",
        (Role.SUPERVISOR, org.service),
        (Role.MANAGER, org.company),
        (Role.LEGAL_PR, None),
        (Role.ANALYST, None),
        (Role.AUDITOR, None),
        (Role.ADMIN, None),
        is_staff=True,
    )


def seed(org: Org, user: User) -> tuple[dict[str, Any], str]:
    """A case in progress owned by `user`, with an evidence item: the real values of path parameters."""
    complaint, access_code = actions.submit(
        check_intake(IntakeData(**complaint_body()), staff=False), actor=Actor.consumer()
    )
    staff = Actor.staff(user)
    complaint = actions.accept(complaint, actor=staff)
    complaint = actions.assign(complaint, actor=staff, owner=user)
    complaint = actions.start_work(complaint, actor=staff)
    item = add_evidence(
        complaint, content=b"receipt of 2026-05-01", filename="receipt.txt", kind=EvidenceKind.COMPLAINT_MATERIAL,
        actor=staff, via=Via.API,
    )  # fmt: skip
    complaint = Complaint.objects.get(pk=complaint.pk)
    real = {"tracking_no": complaint.tracking_no, "evidence_id": item.pk}
    if complaint.customer_id:
        real["customer_id"] = complaint.customer_id
    return real, access_code


def ordered_operations() -> list[Any]:
    operations = [result.ok() for result in SCHEMA.get_all_operations()]
    operations = [op for op in operations if op.label not in EXCLUDED]

    def order(operation: Any) -> tuple[int, int, str]:
        last = operation.path.rstrip("/").rsplit("/", 1)[-1]
        return (last in TERMINAL, operation.method.upper() != "GET", operation.label)

    return sorted(operations, key=order)


def run_operation(operation: Any, real: dict[str, Any], access_code: str, token: str) -> list[str]:
    """The failures of one operation's generated requests, as readable lines."""
    public = not operation.definition.raw.get("security")
    headers = {} if public else {"Authorization": f"Bearer {token}"}
    failures: list[str] = []

    @given(case=operation.as_strategy(), aim_at_real=st.booleans())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def requests(case: Any, aim_at_real: bool) -> None:
        if aim_at_real:
            for name, value in real.items():
                if case.path_parameters and name in case.path_parameters:
                    case.path_parameters[name] = value
            if case.headers and "X-Access-Code" in case.headers:
                case.headers["X-Access-Code"] = access_code
        with connection_kept():
            response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as exc:  # schemathesis reports several failures as one BaseExceptionGroup
            for failure in getattr(exc, "exceptions", None) or [exc]:
                title = str(failure).splitlines()[0] if str(failure) else type(failure).__name__
                detail = " ".join(str(failure).split())[:300]
                failures.append(f"{operation.label}: {title} [{response.status_code}] {detail}")

    requests()
    return failures


def test_every_operation_answers_as_its_schema_says(org):
    user = broad_staff(org)
    _, token = ApiToken.issue(user, "schemathesis")
    real, access_code = seed(org, user)
    operations = ordered_operations()
    assert len(operations) > 100, "the schema lost its operations"
    failures = [line for operation in operations for line in run_operation(operation, real, access_code, token)]
    assert not failures, "\n".join(sorted(set(failures)))


def test_the_schema_documents_the_shared_error_answers():
    """What the run above relies on: errors are documented with their envelope, per kind of operation."""
    paths = SCHEMA.raw_schema["paths"]
    accept = paths["/api/v1/complaints/{tracking_no}/accept"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(accept)
    assert accept["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationErrors")
    status = paths["/api/v1/public/complaints/{tracking_no}"]["get"]
    assert "429" in status["responses"] and "Retry-After" in status["responses"]["429"]["headers"]
    assert "401" not in status["responses"]
    assert [p["name"] for p in status["parameters"] if p["in"] == "header"] == ["X-Access-Code"]
    upload = paths["/api/v1/complaints/{tracking_no}/evidence"]["post"]["responses"]
    assert "201" in upload and "200" not in upload and "413" in upload


def test_excluded_operations_still_exist():
    """An exclusion outlives its operation only by mistake."""
    labels = {result.ok().label for result in SCHEMA.get_all_operations()}
    assert set(EXCLUDED) <= labels
    paths = SCHEMA.raw_schema["paths"]
    assert all(method in paths.get(path, {}) for method, path in HOSTILE_PATH_EXCLUDED)


def test_no_two_schemas_share_a_name():
    """django-ninja files every request schema under its class name: two classes of one name (a
    `Direction` in two apps) would show one endpoint the other's fields. Each operation's own
    schemas must be the ones the document holds."""
    from ninja.openapi.schema import OpenAPISchema

    document = api.get_openapi_schema()["components"]["schemas"]
    generator = OpenAPISchema(api, "/api/v1/")
    clashes = set()
    for router in api._get_bound_routers():
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                generator.schemas.clear()
                for model in operation.models:
                    generator._create_schema_from_model(model, by_alias=True)
                clashes |= {(name, path) for name, schema in generator.schemas.items() if document.get(name) != schema}
    assert not clashes, sorted(clashes)


# Path parameters left out of the hostile-value test, each with its reason.
HOSTILE_PATH_EXCLUDED: dict[tuple[str, str], str] = {}
HOSTILE_PATH_VALUES = {"string": ["a%00b", "%E2%80%AE%0A", "x" * 300], "integer": ["99999999999999999999", "-1"]}


def test_hostile_path_parameters_never_get_a_server_error(org):
    """What generation finds only by luck, for every path parameter of every operation: a NUL byte
    (PostgreSQL refuses it in text), control characters, an over-long value, an integer past 64 bits."""
    from django.test import Client

    user = broad_staff(org)
    _, token = ApiToken.issue(user, "hostile paths")
    client = Client(raise_request_exception=False)
    errors = []
    for path, operations in SCHEMA.raw_schema["paths"].items():
        for method, operation in operations.items():
            if (method, path) in HOSTILE_PATH_EXCLUDED:
                continue
            parameters = [p for p in operation.get("parameters", []) if p["in"] == "path"]
            headers = {"Authorization": f"Bearer {token}"} if operation.get("security") else {"X-Access-Code": "x"}
            for parameter in parameters:
                kind = "integer" if parameter["schema"].get("type") == "integer" else "string"
                for value in HOSTILE_PATH_VALUES[kind]:
                    url = path.replace("{" + parameter["name"] + "}", value)
                    url = re.sub(r"\{\w+\}", "1", url)
                    response = getattr(client, method)(url, {}, content_type="application/json", headers=headers)
                    if response.status_code >= 500:
                        errors.append(f"{method.upper()} {url}: {response.status_code}")
    assert not errors, "\n".join(errors)
