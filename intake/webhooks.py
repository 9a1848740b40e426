"""Complaints pushed by platforms: `POST /api/v1/intake/webhooks/{source}`.

Each source (an e-commerce platform, a WeChat official-account relay, 12315 referral exports, a
social-media monitor) signs the raw body with its shared secret (`X-Signature-256: sha256=<hex>`,
HMAC-SHA256) and sends JSON in its own shape; an admin maps JSON paths to intake fields. The same
validation as every other intake applies (IntakeData + check_intake, as a staff registration), and
the platform's id of the complaint makes a delivery replay-safe: an id seen before creates nothing
and answers with the original tracking number."""

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router
from pydantic import PrivateAttr
from pydantic import ValidationError as PydanticValidationError

from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from core import ratelimit
from core.api_errors import translate
from core.api_schema import documented
from core.errors import ValidationError
from core.http import json_response

from .mail import send_receipt_after_commit
from .models import WebhookEvent, WebhookSource

log = logging.getLogger("complaintdesk.webhooks")
router = Router(tags=["webhooks"])

SIGNATURE_HEADER = "X-Signature-256"
EVENT_ID_MAX = 100  # Complaint.external_id
# Every intake field but the channel, which is the source's own.
MAPPABLE_FIELDS = frozenset(IntakeData.model_fields) - {"channel"}
# Triage is staff work: a payload (often text end users wrote on the platform) never sets these; an
# admin may fix them for a whole source in its defaults.
TRIAGE_FIELDS = frozenset({"priority", "severity", "risk_flags"})
_STRING_FIELDS = frozenset(name for name, f in IntakeData.model_fields.items() if f.annotation is str)


class ChannelActor(Actor):
    """The system, acting for one channel: may do what the system may, and the ledger shows which
    channel (`webhook:<slug>`, `mail`) registered the case."""

    def __init__(self, label: str) -> None:
        super().__init__("system")
        self._label = label

    @property
    def label(self) -> str:
        return self._label


# --- the shared secret, encrypted at rest -------------------------------------------------------


def _cipher(secret_key: str) -> AESGCM:
    return AESGCM(hashlib.sha256(f"{secret_key}:webhook-secret".encode()).digest())


def encrypt_secret(slug: str, secret: str) -> str:
    nonce = os.urandom(12)
    sealed = _cipher(settings.SECRET_KEY).encrypt(nonce, secret.encode(), slug.encode())
    return base64.b64encode(nonce + sealed).decode()


def decrypt_secret(source: WebhookSource) -> str | None:
    """The source's secret, or None when no key opens it (SECRET_KEY rotated without keeping the old
    one in SECRET_KEY_FALLBACKS): the admin must enter the secret again."""
    try:
        raw = base64.b64decode(source.secret_encrypted)
    except ValueError:
        return None
    for key in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        try:
            return _cipher(key).decrypt(raw[:12], raw[12:], source.slug.encode()).decode()
        except (InvalidTag, ValueError):
            continue
    return None


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def signature(secret: str, body: bytes) -> str:
    """The header value a platform sends: `sha256=` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- JSON paths ---------------------------------------------------------------------------------

_STEP = re.compile(r"\.([^.\[\]'\"\s*]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_MISSING = object()


def parse_path(path: str) -> list[str | int]:
    """`$.buyer.phone`, `buyer.phone`, `items[0].sku`, `$['key.with.dots']` → steps; ValueError if
    malformed. Only plain steps: no wildcards, filters or slices (one path names one value)."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    elif text and text[0] not in ".[":
        text = "." + text
    steps: list[str | int] = []
    position = 0
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise ValueError(
                _("JSON 路径格式不正确：%(path)s（无法识别“%(rest)s”）") % {"path": path, "rest": text[position:]}
            )
        name, index, single, double = match.groups()
        steps.append(int(index) if index is not None else next(s for s in (name, single, double) if s is not None))
        position = match.end()
    if not steps:
        raise ValueError(_("JSON 路径不能为空：%(path)s") % {"path": path})
    return steps


def resolve(document: Any, steps: list[str | int]) -> Any:
    for step in steps:
        if isinstance(step, int) and isinstance(document, list) and step < len(document):
            document = document[step]
        elif isinstance(step, str) and isinstance(document, dict) and step in document:
            document = document[step]
        else:
            return _MISSING
    return document


def check_source_config(mapping: Any, defaults: Any, event_id_path: str) -> dict[str, str]:
    """What is wrong with a source's configuration, by form field (empty when it is sound)."""
    errors: dict[str, str] = {}
    problems: list[str] = []
    if not isinstance(mapping, dict) or not mapping:
        errors["mapping"] = _('字段映射应为非空的 JSON 对象：{"字段": "JSON 路径"}。')
    else:
        for field, path in mapping.items():
            if field not in MAPPABLE_FIELDS:
                problems.append(_("未知字段：%(field)s") % {"field": field})
            elif field in TRIAGE_FIELDS:
                problems.append(
                    _("%(field)s 由工作人员研判，不能取自推送内容（可在固定取值中设定）。") % {"field": field}
                )
            elif not isinstance(path, str):
                problems.append(_("%(field)s 的路径应为文本。") % {"field": field})
            else:
                try:
                    parse_path(path)
                except ValueError as exc:
                    problems.append(f"{field}: {exc}")
        if "description" not in mapping:
            problems.append(_("必须映射投诉内容（description）。"))
        if problems:
            errors["mapping"] = "；".join(problems)
    if not isinstance(defaults, dict):
        errors["defaults"] = _("固定取值应为 JSON 对象。")
    else:
        unknown = sorted(set(defaults) - MAPPABLE_FIELDS)
        if unknown:
            errors["defaults"] = _("未知字段：%(field)s") % {"field": ", ".join(unknown)}
    try:
        parse_path(event_id_path)
    except ValueError as exc:
        errors["event_id_path"] = str(exc)
    return errors


# --- a delivery -----------------------------------------------------------------------------------


class _SourcedIntake(IntakeData):
    """IntakeData that also names where the complaint came from, so that the case row carries
    external_source/external_id from its first ledger event on."""

    _external: tuple[str, str] = PrivateAttr(default=("", ""))

    def model_fields_for_complaint(self) -> dict[str, Any]:
        values = super().model_fields_for_complaint()
        values["external_source"], values["external_id"] = self._external
        return values


_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,32}")


def _error(status: int, code: str, message: str) -> HttpResponse:
    return json_response({"error": code, "message": message}, status=status)


def _unprocessable(errors: list[dict[str, Any]]) -> HttpResponse:
    return json_response({"errors": errors}, status=422)


def _path_of(source: WebhookSource, field: str) -> str | None:
    return source.mapping.get(field.split(".")[0]) if isinstance(source.mapping, dict) else None


def _mapped(source: WebhookSource, document: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(source.defaults or {})
    for field, path in source.mapping.items():
        if field in TRIAGE_FIELDS:
            continue  # refused when the source was configured; never taken from a payload
        value = resolve(document, parse_path(path))
        if value is _MISSING or value is None:
            continue
        if field in _STRING_FIELDS and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # phone and order numbers often arrive as JSON numbers
        values[field] = value
    values["channel"] = source.channel
    return values


def _event_id(source: WebhookSource, document: Any) -> tuple[str | None, dict[str, Any] | None]:
    value = resolve(document, parse_path(source.event_id_path))
    error = {"field": "event_id", "path": source.event_id_path, "code": "missing", "message": ""}
    if value is _MISSING or value is None or value == "":
        error["message"] = _("缺少事件编号：推送内容中没有该路径。")
        return None, error
    if isinstance(value, bool) or not isinstance(value, str | int):
        error.update(code="string_type", message=_("事件编号应为文本或整数。"))
        return None, error
    text = str(value).strip()
    if not text or len(text) > EVENT_ID_MAX:
        error.update(code="string_too_long", message=_("事件编号应为 1 到 %(n)d 个字符。") % {"n": EVENT_ID_MAX})
        return None, error
    return text, None


def _replay(event: WebhookEvent) -> HttpResponse:
    complaint = event.complaint
    return json_response(
        {"tracking_no": complaint.tracking_no, "status": complaint.status, "replayed": True}, status=200
    )


def _signed(source: WebhookSource, request: HttpRequest, body: bytes) -> HttpResponse | None:
    """None when the signature is right; otherwise the response (never revealing the expected one)."""
    sent = request.headers.get(SIGNATURE_HEADER, "").strip()
    if not sent:
        return _error(
            401, "signature_missing", _("缺少签名：请在 %(h)s 头中发送 sha256=<HMAC>。") % {"h": SIGNATURE_HEADER}
        )
    secret = decrypt_secret(source)
    if secret is None:
        log.error("webhook source %s: the stored secret cannot be decrypted; enter it again in the admin", source.slug)
        return _error(503, "source_unavailable", _("该推送来源暂不可用，请联系管理员。"))
    algorithm, _sep, digest = sent.partition("=")
    if not hmac.compare_digest(
        f"{algorithm.lower()}={digest.strip().lower()}".encode(), signature(secret, body).encode()
    ):
        return _error(401, "signature_invalid", _("签名不正确。"))
    return None


@router.post(
    "/intake/webhooks/{source}",
    auth=None,
    summary="A complaint pushed by a platform (HMAC-signed)",
    openapi_extra=documented(
        400,
        401,
        413,
        503,
        created="The new complaint's tracking number",
        parameters=[
            {
                "in": "header",
                "name": "X-Signature-256",
                "required": True,
                "schema": {"type": "string"},
                "description": "sha256=<hex HMAC-SHA256 of the raw body with the source's secret>",
            }
        ],
        requestBody={"content": {"application/json": {"schema": {"type": "object"}}}, "required": True},
    ),
)
def receive(request: HttpRequest, source: str) -> HttpResponse:
    """Sign the raw body with the source's secret: `X-Signature-256: sha256=<hex HMAC-SHA256>`.
    201 with the tracking number for a new complaint; 200 with the original tracking number when the
    event id was seen before (nothing is created); 401 for a missing or wrong signature; 400 for a
    body that is not JSON; 422 naming the field and the JSON path of each value that does not fit;
    404 for an unknown or inactive source; 429 past the source's rate."""
    # A slug, or no source at all: other text (a NUL byte, which PostgreSQL refuses) never reaches the query.
    webhook_source = WebhookSource.objects.filter(slug=source, active=True).first() if _SLUG.fullmatch(source) else None
    if webhook_source is None:
        raise Http404
    # Counted per source and client address, before the signature: a sender without the secret
    # spends its own budget, never the platform's.
    ratelimit.hit(f"webhook:{webhook_source.slug}", request, webhook_source.rate_per_minute)
    try:
        body = request.body
    except RequestDataTooBig:
        return _error(413, "too_large", _("推送内容过大。"))
    refused = _signed(webhook_source, request, body)
    if refused is not None:
        return refused
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _error(400, "json_invalid", _("请求体不是有效的 JSON。"))
    event_id, problem = _event_id(webhook_source, document)
    if problem is not None:
        return _unprocessable([problem])
    assert event_id is not None
    earlier = WebhookEvent.objects.select_related("complaint").filter(source=webhook_source, event_id=event_id).first()
    if earlier is not None:
        return _replay(earlier)
    return _register(webhook_source, event_id, document, hashlib.sha256(body).hexdigest())


def _register(source: WebhookSource, event_id: str, document: Any, body_sha256: str) -> HttpResponse:
    try:
        data = _SourcedIntake.model_validate(_mapped(source, document))
    except PydanticValidationError as exc:
        errors = translate(exc.errors())
        return _unprocessable([{**e, "path": _path_of(source, e["field"])} for e in errors])
    try:
        check_intake(data, staff=True)
    except ValidationError as exc:
        return _unprocessable(
            [
                {"field": field, "path": _path_of(source, field), "code": "invalid", "message": str(message)}
                for field, message in exc.errors.items()
            ]
        )
    data._external = (f"webhook:{source.slug}", event_id)

    def record_event(complaint: Complaint, access_code: str) -> None:
        # In the case's own transaction: the event row exists exactly when the case does.
        WebhookEvent.objects.create(source=source, event_id=event_id, complaint=complaint, body_sha256=body_sha256)

    try:
        complaint, access_code = actions.submit(data, actor=ChannelActor(f"webhook:{source.slug}"), also=record_event)
    except IntegrityError:
        # The same event delivered twice at once: the other delivery committed the case first.
        earlier = WebhookEvent.objects.select_related("complaint").filter(source=source, event_id=event_id).first()
        if earlier is None:
            raise
        return _replay(earlier)
    if source.notify_complainant:
        send_receipt_after_commit(complaint, access_code)
    return json_response(
        {
            "tracking_no": complaint.tracking_no,
            "status": complaint.status,
            "received_at": complaint.received_at.isoformat(),
            "replayed": False,
        },
        status=201,
    )
