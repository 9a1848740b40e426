"""The authorisation matrix: every page and API operation × every subject × own/other × state,
requested over HTTP and classified, against the table in docs/security.md ("## Authorisation matrix").

Outcome letters (one per state N P R C X = new, in_progress, resolved, closed, archived):
  A  allowed through the access checks (2xx, a redirect other than to the login, or a 400/422 of the
     request's own input after the checks)
  -  denied (401, 403, 404, or a redirect to the login / the second sign-in step)
  s  refused by the case's state (409 transition_not_allowed) by a user who may otherwise act
A cell is "own/other" (one value when both are equal), each value one letter (the same in every
state) or five (one per state)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from core.errors import TransitionNotAllowed

from .authz_world import SIDES, STATES, SUBJECTS, World

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
SECTION = "## Authorisation matrix"

# URL patterns the matrix leaves out, with the reason.
SKIPPED_PAGES = {
    "admin/": "the Django admin site: Django's own is_staff check (admin role only), tested in accounts/tests",
    "api/v1/": "the REST API: its operations are rows of their own, from the OpenAPI schema",
    "healthz": "health probe, public by design (core/tests/test_health_and_worker.py)",
    "readyz": "health probe, public by design",
    "i18n/": "the language switch, public by design",
    "oidc/": "single sign-on hand-off, 404 unless COMPLAINTDESK_OIDC (accounts/tests/test_oidc.py)",
    "staff/password/reset/": "password reset by mailed link, public by design (Django's views)",
    "staff/login/": "the login page, public by design",
    "staff/logout/": "the logout, public by design",
    "metrics": "Prometheus metrics: a bearer token or the loopback address, not a role (core/metrics.py)",
    "notifications/unsubscribe/": "the opt-out link: its signed token is the credential (notifications/tests)",
}
SKIPPED_API = {
    "/api/v1/openapi.json": "the schema, public by design",
    "/api/v1/docs": "the schema's browser, public by design",
}

# Path parameters with a fixed vocabulary: one row per value.
EXPANSIONS = {
    ("/staff/cases/{tracking_no}/{action}/", "action"): (
        "accept reject classify assign start_work wait_for_consumer resume propose_resolution accept_proposal "
        "refuse_proposal resolve route_external record_external_outcome withdraw close reopen archive escalate "
        "de_escalate add_note share"
    ).split(),
    ("/staff/remedies/{tracking_no}/{pk}/{verb}/", "verb"): ["approve", "reject", "paid", "cancel"],
    ("/staff/investigation/{tracking_no}/findings/{pk}/{verb}/", "verb"): ["confirm", "reject"],
    ("/staff/dossier/{tracking_no}/crisis/{verb}/", "verb"): ["facts", "statement", "approve", "media", "confirm"],
    ("/staff/cases/{tracking_no}/evidence/{pk}/{how}/", "how"): ["view", "download"],
    ("/staff/casework/{tracking_no}/template/{purpose}/", "purpose"): ["reply", "contact"],
}

# Which object a page's `{pk}` (or another id) names, by the pattern's beginning.
PAGE_PK = (
    ("/staff/imports/", "import"),
    ("/staff/remedies/{tracking_no}/offers/", "offer"),
    ("/staff/remedies/", "remedy"),
    ("/staff/investigation/tasks/", "task"),
    ("/staff/investigation/{tracking_no}/findings/", "finding"),
    ("/staff/dossier/", "proceeding"),
    ("/staff/intelligence/trends/alerts/", "spike"),
    ("/staff/feedback/callbacks/", "callback"),
    ("/staff/customers/care/", "care"),
    ("/staff/customers/import/", "customer_import"),
    ("/staff/customers/", "customer"),
    ("/staff/improvement/plans/", "plan"),
    ("/staff/improvement/library/", "library"),
    ("/staff/reports/subscriptions/", "report_subscription"),
    ("/staff/cases/", "evidence"),
    ("/staff/mail/", "mail"),
)
API_IDS = {
    "evidence_id": "evidence",
    "remedy_id": "remedy",
    "offer_id": "offer",
    "link_id": "link",
    "task_id": "task",
    "finding_id": "finding",
    "proceeding_id": "proceeding",
    "delivery_id": "delivery",
    "callback_id": "callback",
    "customer_id": "customer",
    "user_id": "person",
    "plan_id": "plan",
    "subscription_id": "webhook_subscription",
    "token_id": "token",
}
CASE_OBJECTS = {"evidence", "task", "remedy", "offer", "link", "finding", "proceeding", "delivery", "callback"}
SIDE_OBJECTS = {
    "customer",
    "care",
    "plan",
    "library",
    "risk_alert",
    "person",
    "report_subscription",
    "token",
    "code",
    "customer_import",
}
# Public pages that name the case in the posted form (tracking number + access code).
CONSUMER_FORMS = {
    "POST /status/": {},
    "POST /status/action/": {"action": "add_information", "text": "补充的购买凭证"},
    "POST /status/evidence/": {},
    "POST /status/agreement/": {},
}


@dataclass(frozen=True)
class Row:
    key: str  # "GET /staff/cases/{tracking_no}/" or "POST /staff/cases/{tracking_no}/{action=close}/"
    method: str
    path: str  # with {name} placeholders, fixed values filled in
    api: bool
    dimension: str  # "case" (side × state), "side" (own/other), "one"

    @property
    def pattern(self) -> str:
        """The URL pattern the row stands for (fixed values turned back into placeholders)."""
        return re.sub(r"\{(\w+)=[^}]*\}", r"{\1}", self.key.split(" ", 1)[1])


def _walk(patterns: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def page_patterns() -> dict[str, str]:
    """Every page URL pattern ('/staff/cases/{tracking_no}/'), with the skip reason or ''."""
    found = {}
    for route, _pattern in _walk(get_resolver().url_patterns):
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        reason = next((why for start, why in SKIPPED_PAGES.items() if route.startswith(start)), "")
        found[path] = reason
    return found


def api_operations() -> dict[str, str]:
    """Every API operation ('POST /api/v1/complaints/{tracking_no}/close'), with the skip reason or ''."""
    from config.api import api

    found = {}
    for path, ops in api.get_openapi_schema()["paths"].items():
        for method in ops:
            found[f"{method.upper()} {path}"] = SKIPPED_API.get(path, "")
    return found


SURVEY_PREFIXES = ("/feedback/s/", "/api/v1/public/surveys/")


def dimension_of(path: str) -> str:
    names = set(re.findall(r"\{(\w+)", path))
    if "tracking_no" in names or {"task_id", "callback_id"} & names or path.startswith(SURVEY_PREFIXES):
        return "case"
    for start, kind in PAGE_PK:
        if "pk" in names and path.startswith(start):
            return "case" if kind in CASE_OBJECTS else "side" if kind in SIDE_OBJECTS else "one"
    if names & {"customer_id", "user_id", "code", "token_id", "plan_id"}:
        return "side"
    if path.startswith("/api/v1/risk/alerts/") or path.startswith("/staff/risk/alerts/"):
        return "side"
    return "one"


def row_of(key: str) -> Row:
    method, template = key.split(" ", 1)
    path = re.sub(r"\{(\w+)=([^}]*)\}", r"\2", template)
    dimension = "case" if key in CONSUMER_FORMS else dimension_of(path)
    return Row(key, method, path, template.startswith("/api/"), dimension)


# --- the table in docs/security.md -------------------------------------------------------------


@dataclass
class Expected:
    rows: dict[str, dict[str, str]]  # key → subject → cell
    order: list[str]


def parse_doc(text: str | None = None) -> Expected:
    text = DOC.read_text(encoding="utf-8") if text is None else text
    start = text.index(SECTION)
    rest = text[start + len(SECTION) :]
    end = rest.find("\n## ")
    section = rest if end < 0 else rest[:end]
    rows: dict[str, dict[str, str]] = {}
    order: list[str] = []
    header: list[str] | None = None
    for line in section.splitlines():
        if not line.startswith("|"):
            header = None if not line.strip() else header
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "endpoint":
            header = cells
            continue
        if header is None or set(cells[0]) <= {"-", ":", " "}:
            continue
        key = cells[0].strip("`")
        if key in rows:
            raise ValueError(f"docs/security.md lists {key} twice")
        rows[key] = {subject: cell.strip("`") for subject, cell in zip(header[1:], cells[1:], strict=True)}
        order.append(key)
    if not rows:
        raise ValueError("docs/security.md has no authorisation table")
    return Expected(rows, order)


def expected_letter(cell: str, side: str, state_index: int | None) -> str:
    """The letter of one side and state from a cell: 'A', 'A/-', 'AAsss', 'AAsss/-'."""
    own, _sep, other = cell.partition("/")
    value = own if side == "own" or not other else other
    if len(value) == 1:
        return value
    if len(value) != len(STATES) or state_index is None:
        raise ValueError(f"bad cell {cell!r}")
    return value[state_index]


def compress(letters: dict[str, dict[str, str]]) -> str:
    """The cell for observed letters {side: {state: letter}} (state '' for rows without states)."""
    values = []
    for side in SIDES:
        if side not in letters:
            continue
        per_state = letters[side]
        if "" in per_state:
            values.append(per_state[""])
        else:
            word = "".join(per_state[s] for s in STATES)
            values.append(word[0] if len(set(word)) == 1 else word)
    if len(values) == 2 and values[0] == values[1]:
        return values[0]
    return "/".join(values)


# --- requests --------------------------------------------------------------------------------


class Recorder:
    """Remembers the messages of the PermissionDenied and TransitionNotAllowed raised during a
    request: a page that answers a refusal with 422 and the reason in the form is told apart from a
    422 about the input."""

    def __init__(self) -> None:
        self.denied: list[str] = []
        self.state: list[str] = []

    def install(self, monkeypatch: Any) -> None:
        recorder = self
        original_pd = PermissionDenied.__init__
        original_tna = TransitionNotAllowed.__init__

        def pd_init(exc: Any, *args: Any, **kwargs: Any) -> None:
            original_pd(exc, *args, **kwargs)
            recorder.denied.append(str(exc))

        def tna_init(exc: Any, *args: Any, **kwargs: Any) -> None:
            original_tna(exc, *args, **kwargs)
            recorder.state.extend([str(exc), str(getattr(exc, "reason", "") or "")])

        monkeypatch.setattr(PermissionDenied, "__init__", pd_init)
        monkeypatch.setattr(TransitionNotAllowed, "__init__", tna_init)

    def reset(self) -> None:
        self.denied.clear()
        self.state.clear()


def _form_error(response: Any) -> str:
    context = getattr(response, "context", None)
    if context is None:
        return ""
    for key in ("error", "action_error"):
        try:
            value = context[key]
        except KeyError:
            continue
        if isinstance(value, dict):
            return str(value.get("message", ""))
        if isinstance(value, str):
            return value
    return ""


def classify(response: Any, row: Row, recorder: Recorder) -> str:
    code = response.status_code
    if "/surveys/" in row.path or row.path.startswith("/feedback/s/"):
        # The link's token is the credential: a forged one is refused (400), a cancelled survey is gone (410).
        if code in (400, 404):
            return "-"
        if code == 410:
            return "s"
    if code in (401, 403, 404):
        return "-"
    if code in (301, 302, 303):
        location = response.get("Location", "")
        if location.startswith(("/staff/login/", "/staff/account/2fa/")):
            return "-"
        return "A"
    if code == 409:
        error = (response.json() if row.api else {}).get("error")
        # A version conflict says nothing about access: the matrix sent a stale version.
        return "s" if error == "transition_not_allowed" else "?" if error == "version_conflict" else "A"
    if code == 422 and row.api:
        errors = response.json().get("errors", [])
        if any(e.get("code") != "invalid" for e in errors):
            return "?"  # the request's schema refused it before any check: the matrix's body is wrong
        return "A"
    if code == 422:
        message = _form_error(response)
        if message and message in recorder.denied:
            return "-"
        if message and message in recorder.state:
            return "s"
        return "A"
    if 200 <= code < 300 or code in (400, 429):
        return "A"
    return "?"


SAMPLE_PDF: bytes | None = None
VERSION = "{version}"  # replaced by the case's current version when the request is sent
# Bodies and queries the schema alone does not make acceptable.
API_OVERRIDES: dict[str, dict[str, Any]] = {
    "GET /api/v1/statutory/calculate": {"rule": "crpl_55", "price": "100"},
}


def _pdf() -> bytes:
    global SAMPLE_PDF
    if SAMPLE_PDF is None:
        from evidence.demo_files import pdf

        SAMPLE_PDF = pdf()
    return SAMPLE_PDF


TWIN = "{twin}"  # replaced by another case of the same department (merge's `into`)
# Values by field name that get a write past its input checks to the access checks behind them.
NAMED_VALUES: dict[str, Any] = {
    "department": "service",
    "assignee": "",
    "owner": "",
    "due_on": None,
    "new_issue": "",
    "into": TWIN,
    "user": "authz_legal_pr",
    "received_from": "2024-01-01",
    "received_to": "2024-12-31",
    "amount": "100.00",
    "root_cause": "design",
    "nature": "valid",
}


def _schema_value(schema: dict[str, Any], components: dict[str, Any], name: str) -> Any:
    if name in NAMED_VALUES:
        return NAMED_VALUES[name]
    if "$ref" in schema:
        return _schema_value(components[schema["$ref"].rsplit("/", 1)[1]], components, name)
    for combiner in ("allOf", "anyOf", "oneOf"):
        if combiner in schema:
            options = [s for s in schema[combiner] if s.get("type") != "null"]
            return _schema_value(options[0], components, name)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        # Every property, not only the required ones: many actions check their text before the role.
        return {key: _schema_value(value, components, key) for key, value in properties.items()}
    if kind == "array":
        return [_schema_value(schema.get("items", {}), components, name) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        if name in ("version", "offer_id", "remedy_id", "amount_cents"):
            return None if name != "version" else VERSION
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date-time":
            return "2024-03-01T10:00:00+08:00"
        if fmt == "date":
            return "2024-03-01"
        if fmt == "email":
            return "authz@example.com"
        if name == "currency":
            return "CNY"
        text = "授权矩阵测试内容，请核实。" * max(2, schema.get("minLength", 1) // 13 + 1)  # ≥ 10 characters
        return text[: schema["maxLength"]] if "maxLength" in schema else text
    return "授权矩阵"


def api_bodies() -> dict[str, tuple[str, Any]]:
    """A minimal body for each API write that its schema accepts: (content type, body)."""
    from config.api import api

    schema = api.get_openapi_schema()
    components = schema.get("components", {}).get("schemas", {})
    bodies: dict[str, tuple[str, Any]] = {}
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            content = (op.get("requestBody") or {}).get("content", {})
            for content_type, spec in content.items():
                body = _schema_value(spec["schema"], components, "")
                if content_type.startswith("multipart"):
                    body = {k: v for k, v in body.items() if not isinstance(v, str) or not v.startswith("授权矩阵")} | {
                        k: v for k, v in body.items() if isinstance(v, str) and v.startswith("授权矩阵")
                    }
                bodies[f"{method.upper()} {path}"] = (content_type, body)
    from conftest import complaint_body

    bodies["POST /api/v1/complaints"] = ("application/json", complaint_body())
    return bodies


class Matrix:
    def __init__(self, world: World, recorder: Recorder) -> None:
        self.world = world
        self.recorder = recorder
        self.bodies = api_bodies()
        self.sessions: dict[str, Client] = {}
        for subject in SUBJECTS:
            client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans", raise_request_exception=False)
            if subject in world.users:
                client.force_login(world.users[subject])
            self.sessions[subject] = client
        self.api_client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans", raise_request_exception=False)
        self.requests = 0
        self.unclear: list[str] = []

    # the values of the path
    def _object(self, kind: str, side: str, state: str | None, subject: str) -> str:
        world = self.world
        if kind in CASE_OBJECTS:
            return str(world.cases[(side, state)].objects[kind])
        if kind == "code":
            return world.departments[side].code
        if kind == "token":
            if side == "own" and subject in world.users:
                return str(world.token_ids[subject])
            return str(world.objects[("token", "other")])
        if kind in SIDE_OBJECTS:
            return str(world.objects[(kind, side)])
        return str(world.objects[(kind, "any")])

    def _page_kind(self, row: Row) -> str:
        return next(kind for start, kind in PAGE_PK if row.path.startswith(start))

    def url(self, row: Row, subject: str, side: str, state: str | None) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "tracking_no":
                return self.world.cases[(side, state)].complaint.tracking_no
            if name == "pk":
                return self._object(self._page_kind(row), side, state, subject)
            if name == "alert_id":
                kind = "spike" if "intelligence" in row.path else "risk_alert"
                return self._object(kind, side, state, subject)
            if name == "token" and ("/surveys/" in row.path or "/feedback/s/" in row.path):
                # The link's signed token is the credential: only the consumer holds the one of their case.
                if subject == "consumer" and side == "own" and state:
                    return self.world.survey_tokens[(side, state)]
                return "forged-token"
            if name == "code":
                return self._object("code", side, state, subject)
            if name == "source":
                return "authz-source"
            if name in API_IDS:
                return self._object(API_IDS[name], side, state, subject)
            raise KeyError(f"{row.key}: no value for {{{name}}}")

        return re.sub(r"\{(\w+)\}", fill, row.path)

    def request(self, row: Row, subject: str, side: str, state: str | None) -> str:
        world = self.world
        path = self.url(row, subject, side, state)
        headers: dict[str, str] = {}
        consumer_case = world.cases[("own", state)] if state else None
        if row.api:
            client = self.api_client
            if subject in world.tokens:
                headers["Authorization"] = f"Bearer {world.tokens[subject]}"
            if subject == "consumer" and consumer_case is not None:
                headers["X-Access-Code"] = consumer_case.access_code
        else:
            client = self.sessions[subject]
        kwargs: dict[str, Any] = {}
        if row.method == "GET" and row.key in API_OVERRIDES:
            kwargs = {"data": API_OVERRIDES[row.key]}
        if row.method != "GET":
            if row.api:
                content_type, body = self.bodies.get(row.key, ("application/json", {}))
                if content_type.startswith("multipart"):
                    from django.core.files.uploadedfile import SimpleUploadedFile

                    version = world.cases[(side, state)].complaint.version if state else 1
                    body = {k: version if v == VERSION else v for k, v in body.items() if v is not None}
                    body["file"] = SimpleUploadedFile("报告.pdf", _pdf(), "application/pdf")
                    kwargs = {"data": body}
                else:
                    import json

                    text = json.dumps(body)
                    version = world.cases[(side, state)].complaint.version if state else 1
                    text = text.replace(json.dumps(VERSION), str(version))
                    if state:
                        twin = STATES[(STATES.index(state) + 1) % len(STATES)]
                        text = text.replace(TWIN, world.cases[(side, twin)].complaint.tracking_no)
                    kwargs = {"data": text, "content_type": content_type}
            else:
                form = dict(CONSUMER_FORMS.get(row.key, {}))
                if row.key in CONSUMER_FORMS and state is not None:
                    form["tracking_no"] = world.cases[(side, state)].complaint.tracking_no
                    form["access_code"] = consumer_case.access_code if subject == "consumer" else ""  # type: ignore[union-attr]
                kwargs = {"data": form}
        self.recorder.reset()
        self.requests += 1
        with transaction.atomic():
            method = getattr(client, row.method.lower())
            response = method(path, headers=headers, **kwargs)
            transaction.set_rollback(True)
        letter = classify(response, row, self.recorder)
        if letter == "?":
            body = response.content[:300].decode("utf-8", "replace")
            self.unclear.append(f"{row.key} as {subject} ({side}, {state}): {response.status_code} {body}")
        return letter

    def observe(self, row: Row) -> dict[str, dict[str, dict[str, str]]]:
        """subject → side → state → letter."""
        result: dict[str, dict[str, dict[str, str]]] = {}
        for subject in SUBJECTS:
            sides: dict[str, dict[str, str]] = {}
            if row.dimension == "case":
                for side in SIDES:
                    sides[side] = {s: self.request(row, subject, side, s) for s in STATES}
            elif row.dimension == "side":
                for side in SIDES:
                    sides[side] = {"": self.request(row, subject, side, None)}
            else:
                sides["own"] = {"": self.request(row, subject, "own", None)}
            result[subject] = sides
        return result
