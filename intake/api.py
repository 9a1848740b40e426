"""The public side of the API: intake and the consumer's own case, by tracking number + access code."""

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.selectors import consumer_view
from core import ratelimit
from core.errors import ValidationError
from core.http import json_response
from core.validation import CONTROL, CleanText

from . import idempotency
from .access import ACCESS_CODE_HEADER, find_own_case

router = Router(tags=["public"])
# The consumer's endpoints: the access code goes in a header (documented for the OpenAPI schema).
CONSUMER = {"parameters": [ACCESS_CODE_HEADER]}


class Receipt(Schema):
    tracking_no: str
    access_code: str
    status: str
    received_at: str
    ack_due_at: str
    status_url: str


def _receipt(complaint: Complaint, access_code: str) -> dict[str, Any]:
    return {
        "tracking_no": complaint.tracking_no,
        "access_code": access_code,
        "status": complaint.status,
        "received_at": complaint.received_at.isoformat(),
        "ack_due_at": complaint.ack_due_at.isoformat(),
        "status_url": f"/api/v1/public/complaints/{complaint.tracking_no}",
    }


def _staff_user(request: HttpRequest) -> Any:
    """A staff user registering a complaint for a consumer (phone, letter, walk-in), by API token."""
    from complaints.api import TokenAuth
    from complaints.permissions import Principal

    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    user = TokenAuth().authenticate(request, header.removeprefix("Bearer ").strip())
    if user is None:
        from ninja.errors import AuthenticationError

        raise AuthenticationError
    if not Principal.of(user).is_writer:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("只读角色不能登记投诉。"))
    return user


def file_complaint(request: HttpRequest, payload: IntakeData) -> Any:
    """File a complaint. No login: rate-limited per client address. An `Idempotency-Key` header makes
    a retry within 24 hours return the original response and create nothing. The access code is shown
    only here. With a staff token (`Authorization: Bearer`) an agent registers a complaint received
    by phone, letter, walk-in or referral, and may set channel, priority, severity, risk flags and a
    regulator's due date."""
    staff = _staff_user(request)
    if staff is not None:
        from complaints.api import register_complaint

        return register_complaint(request, staff, payload)
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 200:
        raise ValidationError("Idempotency-Key", _("过长：最多 200 个字符。"))
    if CONTROL.search(key):
        raise ValidationError("Idempotency-Key", _("含有不允许的控制字符。"))
    ratelimit.hit("intake", request, settings.COMPLAINTDESK_INTAKE_RATE_PER_MINUTE)
    if key:
        digest = idempotency.body_hash(request.body)
        earlier = idempotency.claim(key, digest)
        if earlier is not None:
            if earlier.body_hash != digest:
                raise ValidationError("Idempotency-Key", _("该幂等键已用于另一份请求内容。"))
            if earlier.status_code == idempotency.PENDING:
                response = json_response(
                    {"error": "in_progress", "message": _("同一请求正在处理中，请稍后重试。")}, status=409
                )
                response["Retry-After"] = "1"
                return response
            original = idempotency.unseal(key, earlier.response)
            if original is None:  # sealed under an earlier SECRET_KEY
                return json_response(
                    {"error": "idempotency_expired", "message": _("无法重放原响应，请使用新的幂等键。")}, status=409
                )
            response = json_response(original, status=earlier.status_code)
            response["Idempotent-Replayed"] = "true"
            return response

    def save_response(complaint: Complaint, access_code: str) -> None:
        # In the case's own transaction: a receipt is stored exactly when the case exists.
        if key:
            idempotency.complete(key, 201, _receipt(complaint, access_code))

    try:
        check_intake(payload, staff=False)
        complaint, access_code = actions.submit(payload, actor=Actor.consumer(), also=save_response)
    except Exception:
        if key:
            idempotency.release(key)
        raise
    body = _receipt(complaint, access_code)
    return json_response(body, status=201)


class ConsumerText(Schema):
    model_config = ConfigDict(extra="forbid")
    text: CleanText = Field(min_length=1, max_length=10_000)


class ConsumerReason(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: CleanText = Field(min_length=1, max_length=2_000)


@sensitive_variables("code")
def _own_case(request: HttpRequest, tracking_no: str) -> Complaint:
    """The consumer's case; a wrong code and an unknown number answer alike (no oracle)."""
    complaint = find_own_case(request, tracking_no, request.headers.get("X-Access-Code", ""))
    if complaint is None:
        raise Http404
    return complaint


@router.get(
    "/public/complaints/{tracking_no}", auth=None, summary="The consumer's view of their case", openapi_extra=CONSUMER
)
def consumer_status(request: HttpRequest, tracking_no: str) -> dict[str, Any]:
    """The access code goes in the `X-Access-Code` header, never in the URL. `negotiation` holds the
    offer thread, the offer to answer (`open_offer`; `may_accept` is false once it has expired) and
    the settlement agreement once there is one."""
    return _consumer_answer(_own_case(request, tracking_no))


def _consumer_answer(complaint: Complaint) -> dict[str, Any]:
    from resolutions.selectors import negotiation_for_consumer

    return {**consumer_view(complaint), "negotiation": negotiation_for_consumer(complaint)}


def _consumer_action(request: HttpRequest, tracking_no: str, action: str, **kwargs: Any) -> dict[str, Any]:
    complaint = _own_case(request, tracking_no)
    updated = getattr(actions, action)(complaint, actor=Actor.consumer(), **kwargs)
    updated.owner = complaint.owner if updated.owner_id == complaint.owner_id else updated.owner
    return _consumer_answer(updated)


def _offer_id(request: HttpRequest) -> int | None:
    """The optional `{"offer_id": n}` of an acceptance: the offer the consumer saw. The body may be
    empty or a form (clients written before the offer thread post nothing)."""
    import json

    if request.content_type != "application/json":
        raw = request.POST.get("offer_id", "") if request.method == "POST" else ""
        if raw and not raw.isdigit():
            raise ValidationError("offer_id", _("应为整数。"))
        return int(raw) or None if raw else None
    if not request.body.strip():
        return None
    try:
        body = json.loads(request.body)
    except ValueError:
        raise ValidationError("__all__", _("请求体不是有效的 JSON。")) from None
    if not isinstance(body, dict) or set(body) - {"offer_id"}:
        raise ValidationError("__all__", _("只接受 offer_id 字段。"))
    value = body.get("offer_id")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValidationError("offer_id", _("应为整数。"))
    return value


class ConsumerRefusal(ConsumerReason):
    offer_id: int | None = Field(None, ge=1)


class ConsumerCounter(Schema):
    model_config = ConfigDict(extra="forbid")
    text: CleanText = Field(min_length=1, max_length=10_000)
    # A string or a number; checked by resolutions.money (negative, non-numeric, too large, decimals).
    amount: str | int | float | None = None
    currency: CleanText = Field("CNY", max_length=3)
    offer_id: int | None = Field(None, ge=1)


@router.post(
    "/public/complaints/{tracking_no}/accept-proposal",
    auth=None,
    summary="Accept the proposed remedy",
    openapi_extra=CONSUMER,
)
def consumer_accept(request: HttpRequest, tracking_no: str) -> dict[str, Any]:
    """Accept the open offer, or the one named by an optional body `{"offer_id": n}`; an expired or
    withdrawn offer is refused (409, with the reason). The settlement agreement is generated after
    commit."""
    return _consumer_action(request, tracking_no, "accept_proposal", offer_id=_offer_id(request), via="api")


@router.post(
    "/public/complaints/{tracking_no}/refuse-proposal",
    auth=None,
    summary="Refuse the proposed remedy",
    openapi_extra=CONSUMER,
)
def consumer_refuse(request: HttpRequest, tracking_no: str, payload: ConsumerRefusal) -> dict[str, Any]:
    return _consumer_action(request, tracking_no, "refuse_proposal", reason=payload.reason, offer_id=payload.offer_id)


@router.post(
    "/public/complaints/{tracking_no}/counter-offer",
    auth=None,
    summary="Answer the offer with your own",
    openapi_extra=CONSUMER,
)
def consumer_counter(request: HttpRequest, tracking_no: str, payload: ConsumerCounter) -> dict[str, Any]:
    from resolutions.actions import counter_offer

    complaint = _own_case(request, tracking_no)
    counter_offer(
        complaint,
        actor=Actor.consumer(),
        text=payload.text,
        amount=payload.amount,
        currency=payload.currency,
        offer_id=payload.offer_id,
    )
    return _consumer_answer(Complaint.objects.select_related("owner").get(pk=complaint.pk))


@router.get(
    "/public/complaints/{tracking_no}/agreement",
    auth=None,
    summary="Download the settlement agreement (PDF)",
    openapi_extra=CONSUMER,
)
def consumer_agreement(request: HttpRequest, tracking_no: str) -> Any:
    """The case's latest settlement agreement; the download is recorded in the case's ledger."""
    from evidence.actions import record_access
    from evidence.http import file_response
    from resolutions.selectors import consumer_agreement_item

    complaint = _own_case(request, tracking_no)
    item = consumer_agreement_item(complaint)
    if item is None:
        raise Http404
    record_access(item, actor=Actor.consumer(), how="download")
    return file_response(item, download=True)


@router.post(
    "/public/complaints/{tracking_no}/information",
    auth=None,
    summary="Add requested information",
    openapi_extra=CONSUMER,
)
def consumer_information(request: HttpRequest, tracking_no: str, payload: ConsumerText) -> dict[str, Any]:
    return _consumer_action(request, tracking_no, "add_information", text=payload.text)


@router.post(
    "/public/complaints/{tracking_no}/withdraw", auth=None, summary="Withdraw the complaint", openapi_extra=CONSUMER
)
def consumer_withdraw(request: HttpRequest, tracking_no: str, payload: ConsumerReason) -> dict[str, Any]:
    return _consumer_action(request, tracking_no, "withdraw", reason=payload.reason)


@router.post(
    "/public/complaints/{tracking_no}/appeal", auth=None, summary="Appeal a rejection (once)", openapi_extra=CONSUMER
)
def consumer_appeal(request: HttpRequest, tracking_no: str, payload: ConsumerReason) -> dict[str, Any]:
    return _consumer_action(request, tracking_no, "appeal", reason=payload.reason)


@router.post(
    "/public/complaints/{tracking_no}/reopen",
    auth=None,
    summary="Reopen a closed case within the window",
    openapi_extra=CONSUMER,
)
def consumer_reopen(request: HttpRequest, tracking_no: str, payload: ConsumerReason) -> dict[str, Any]:
    return _consumer_action(request, tracking_no, "reopen", reason=payload.reason)
