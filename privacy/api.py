"""Personal-information requests over the API (staff: token or session). Legal/PR and managers
handle them; auditors read the log (privacy.access). An export writes (a ledger event per case and
a log row), so it is a POST."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from complaints.api import StaffSession, TokenAuth
from complaints.ledgering import Actor
from core.http import json_response
from core.validation import CleanText

from . import actions
from .access import check_read_log, customer_for, visible_log
from .choices import RequestStatus
from .models import PrivacyRequest

router = Router(tags=["privacy"], auth=[TokenAuth(), StaffSession()])


def describe_request(r: PrivacyRequest) -> dict[str, Any]:
    return {
        "id": r.pk,
        "kind": r.kind,
        "customer_id": r.customer_id,
        "actor": r.actor.get_username(),
        "reason": r.reason,
        "status": r.status,
        "detail": r.detail,
        "created_at": r.created_at.isoformat(),
    }


class ExportQuery(Schema):
    model_config = ConfigDict(extra="forbid")
    format: str = "json"


@router.post("/privacy/customers/{customer_id}/export", summary="Export a person's data (JSON or PDF)")
def export(request: HttpRequest, customer_id: int, query: Query[ExportQuery]) -> HttpResponse:
    user = request.auth  # type: ignore[attr-defined]
    customer = customer_for(user, customer_id)
    result = actions.export(customer, actor=Actor.staff(user), fmt=query.format)
    response = HttpResponse(result.content, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    response["X-Privacy-Request"] = str(result.request.pk)
    return response


class CorrectIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: CleanText | None = Field(None, max_length=200)
    phone: CleanText | None = Field(None, max_length=50)
    email: CleanText | None = Field(None, max_length=300)
    address: CleanText | None = Field(None, max_length=400)
    id_number: CleanText | None = Field(None, max_length=40)
    reason: CleanText = Field(max_length=actions.REASON_MAX)


@router.post("/privacy/customers/{customer_id}/correct", summary="Correct a person's details")
def correct(request: HttpRequest, customer_id: int, payload: CorrectIn) -> HttpResponse:
    user = request.auth  # type: ignore[attr-defined]
    customer = customer_for(user, customer_id)
    changes = payload.dict(exclude={"reason"})
    done = actions.correct(customer, actor=Actor.staff(user), changes=changes, reason=payload.reason)
    return json_response(describe_request(done))


class EraseIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: CleanText = Field(max_length=actions.REASON_MAX)


@router.post("/privacy/customers/{customer_id}/erase", summary="Erase or anonymise a person's data")
def erase(request: HttpRequest, customer_id: int, payload: EraseIn) -> HttpResponse:
    """200 with the request when done; 409 with the blocking cases (and why) when a legal hold or a
    retention duty keeps the data. Either way the request is in the log."""
    user = request.auth  # type: ignore[attr-defined]
    customer = customer_for(user, customer_id)
    done = actions.erase(customer, actor=Actor.staff(user), reason=payload.reason)
    body = describe_request(done)
    if done.status == RequestStatus.REFUSED:
        body["error"] = "erasure_refused"
        body["message"] = _("不能删除：以下投诉须保留其个人信息。")
        body["blocking"] = [{**b, "message": actions.describe_blocker(b)} for b in done.detail.get("blocking", [])]
        return json_response(body, status=409)
    return json_response(body)


class LogQuery(Schema):
    model_config = ConfigDict(extra="forbid")
    customer_id: int | None = Field(None, ge=1, le=2**63 - 1)  # a database id: past it, no row (and no overflow)
    limit: int = Field(100, ge=1, le=500)


@router.get("/privacy/requests", summary="The log of personal-information requests")
def request_log(request: HttpRequest, filters: Query[LogQuery]) -> list[dict[str, Any]]:
    user = request.auth  # type: ignore[attr-defined]
    check_read_log(user)
    rows = visible_log(user, PrivacyRequest.objects.select_related("actor")).order_by("-created_at", "-id")
    if filters.customer_id:
        rows = rows.filter(customer_id=filters.customer_id)
    return [describe_request(r) for r in rows[: filters.limit]]
