"""Remedies and the statutory calculator over the API (staff: token or session). Writes may carry the
case version (If-Match or `version`); without one they apply to the current version."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from complaints.actions import check_may
from complaints.api import StaffSession, TokenAuth, _expected_version, _user
from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.permissions import Principal, get_complaint_for_user
from core.api_schema import documented
from core.http import json_response
from core.validation import CleanText
from privacy.audit import record_case_read

from . import actions, statutory
from .choices import RemedyKind
from .models import Offer, Remedy
from .selectors import describe, remedies_of, thread_for, totals_for_case

router = Router(tags=["remedies"], auth=[TokenAuth(), StaffSession()])


def _version(request: HttpRequest, version: int | None) -> int | None:
    if version is None and not request.headers.get("If-Match", "").strip():
        return None
    return _expected_version(request, version)


def _remedy(complaint: Complaint, remedy_id: int) -> Remedy:
    remedy = Remedy.objects.filter(pk=remedy_id, complaint_id=complaint.pk).first()
    if remedy is None:
        raise Http404
    remedy.complaint = complaint
    return remedy


def _answer(remedy: Remedy, status: int = 200) -> HttpResponse:
    remedy = remedies_of(remedy.complaint).get(pk=remedy.pk)
    response = json_response(describe(remedy), status=status)
    response["ETag"] = f'"{Complaint.objects.values_list("version", flat=True).get(pk=remedy.complaint_id)}"'
    return response


@router.get("/complaints/{tracking_no}/remedies", summary="The case's remedies, approvals and totals")
def list_remedies(request: HttpRequest, tracking_no: str) -> dict[str, Any]:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    masked = Principal.of(user).masked_for(complaint)
    record_case_read(user, complaint, "remedies")  # issue 9: a read of personal data is a ledger event
    totals = {
        group: [{**row, "total": format(row["total"], "f")} for row in rows]
        for group, rows in totals_for_case(complaint).items()
    }
    return {"items": [describe(r, masked=masked) for r in remedies_of(complaint)], "totals": totals}


class RemedyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    kind: RemedyKind
    # A string or a number; checked by resolutions.money (negative, non-numeric, too large, decimals).
    amount: str | int | float | None = None
    currency: CleanText = Field("CNY", max_length=3)
    description: CleanText = Field("", max_length=2000)
    statutory_basis: CleanText = Field("", max_length=300)
    version: int | None = Field(None, ge=1)


@router.post(
    "/complaints/{tracking_no}/remedies",
    summary="Propose a remedy (goes up for approval above your limit)",
    openapi_extra=documented(created="The remedy", ok=False),
)
def add_remedy(request: HttpRequest, tracking_no: str, payload: RemedyIn) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    actor = Actor.staff(user)
    check_may(complaint, actor, "add_remedy")
    remedy = actions.add_remedy(
        complaint,
        actor=actor,
        kind=payload.kind,
        amount=payload.amount,
        currency=payload.currency,
        description=payload.description,
        statutory_basis=payload.statutory_basis,
        expected_version=_version(request, payload.version),
    )
    return _answer(remedy, status=201)


class CommentIn(Schema):
    model_config = ConfigDict(extra="forbid")
    comment: CleanText = Field("", max_length=2000)
    version: int | None = Field(None, ge=1)


class PaidIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reference: CleanText = Field("", max_length=100)
    version: int | None = Field(None, ge=1)


class CancelIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: CleanText = Field("", max_length=2000)
    version: int | None = Field(None, ge=1)


def _decide(request: HttpRequest, tracking_no: str, remedy_id: int, action: str, **kwargs: Any) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    actor = Actor.staff(user)
    version = _version(request, kwargs.pop("version"))
    remedy = getattr(actions, action)(_remedy(complaint, remedy_id), actor=actor, expected_version=version, **kwargs)
    return _answer(remedy)


@router.post("/complaints/{tracking_no}/remedies/{remedy_id}/approve", summary="Approve (one step of the chain)")
def approve(request: HttpRequest, tracking_no: str, remedy_id: int, payload: CommentIn) -> HttpResponse:
    return _decide(request, tracking_no, remedy_id, "approve_remedy", comment=payload.comment, version=payload.version)


@router.post("/complaints/{tracking_no}/remedies/{remedy_id}/reject", summary="Reject, with a comment")
def reject(request: HttpRequest, tracking_no: str, remedy_id: int, payload: CommentIn) -> HttpResponse:
    return _decide(request, tracking_no, remedy_id, "reject_remedy", comment=payload.comment, version=payload.version)


@router.post("/complaints/{tracking_no}/remedies/{remedy_id}/paid", summary="Record execution / payment")
def paid(request: HttpRequest, tracking_no: str, remedy_id: int, payload: PaidIn) -> HttpResponse:
    return _decide(
        request, tracking_no, remedy_id, "mark_remedy_paid", reference=payload.reference, version=payload.version
    )


@router.post("/complaints/{tracking_no}/remedies/{remedy_id}/cancel", summary="Cancel a remedy not yet executed")
def cancel(request: HttpRequest, tracking_no: str, remedy_id: int, payload: CancelIn) -> HttpResponse:
    return _decide(request, tracking_no, remedy_id, "cancel_remedy", reason=payload.reason, version=payload.version)


class CalculateIn(Schema):
    model_config = ConfigDict(extra="forbid")
    rule: CleanText = Field(max_length=20)
    price: CleanText = Field("", max_length=30)
    loss: CleanText = Field("", max_length=30)
    received_on: CleanText = Field("", max_length=10)
    asked_on: CleanText = Field("", max_length=10)
    distance_sale: bool = True
    intact: bool = True
    exception: CleanText = Field("", max_length=40)
    labelling_defect_only: bool = False
    rule_or_agreement: bool = False
    termination_conditions_met: bool = False
    defences: list[CleanText] = []


@router.get("/statutory/calculate", summary="Statutory calculator: the amount a rule gives, with the rule shown")
def calculate(request: HttpRequest, params: Query[CalculateIn]) -> dict[str, Any]:
    """Rules: crpl_24, crpl_25, crpl_55, food_148, pql_41. The handler decides; nothing is written."""
    _user(request)
    return statutory.calculate(params.rule, params.dict()).as_dict()


@router.get("/statutory/rules", summary="The rules the calculator knows")
def rules(request: HttpRequest) -> list[dict[str, Any]]:
    _user(request)
    return [
        {"code": r.code, "law": str(r.law), "article": str(r.article), "text": str(r.text)}
        for r in statutory.RULES.values()
    ]


# --- the negotiation thread -------------------------------------------------------------------------


def _thread_answer(complaint: Complaint, user: Any, status: int = 200) -> HttpResponse:
    complaint = Complaint.objects.select_related("org_unit").get(pk=complaint.pk)
    masked = Principal.of(user).masked_for(complaint)
    body = {
        "tracking_no": complaint.tracking_no,
        "status": complaint.status,
        "version": complaint.version,
        "items": thread_for(complaint, masked=masked),
    }
    response = json_response(body, status=status)
    response["ETag"] = f'"{complaint.version}"'
    return response


@router.get("/complaints/{tracking_no}/offers", summary="The negotiation thread: offers, counter-offers, agreement")
def list_offers(request: HttpRequest, tracking_no: str) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    record_case_read(user, complaint, "offers")  # issue 9: a read of personal data is a ledger event
    return _thread_answer(complaint, user)


class OfferIn(Schema):
    model_config = ConfigDict(extra="forbid")
    text: CleanText = Field(max_length=10_000)
    # A string or a number; checked by resolutions.money (negative, non-numeric, too large, decimals).
    amount: str | int | float | None = None
    currency: CleanText = Field("CNY", max_length=3)
    remedies: list[int] = Field(default_factory=list, max_length=50)
    valid_days: int | None = Field(None, ge=1, le=90)
    reply_to: int | None = None
    version: int | None = Field(None, ge=1)


@router.post(
    "/complaints/{tracking_no}/offers",
    summary="Make an offer to the consumer (the case awaits the answer)",
    openapi_extra=documented(created="The negotiation thread", ok=False),
)
def make_offer(request: HttpRequest, tracking_no: str, payload: OfferIn) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    actor = Actor.staff(user)
    check_may(complaint, actor, "propose_resolution")
    actions.make_offer(
        complaint,
        actor=actor,
        text=payload.text,
        amount=payload.amount,
        currency=payload.currency,
        remedies=payload.remedies,
        valid_days=payload.valid_days,
        reply_to=payload.reply_to,
        expected_version=_version(request, payload.version),
    )
    return _thread_answer(complaint, user, status=201)


class WithdrawIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: CleanText = Field("", max_length=2000)
    version: int | None = Field(None, ge=1)


@router.post("/complaints/{tracking_no}/offers/{offer_id}/withdraw", summary="Withdraw the open offer")
def withdraw_offer(request: HttpRequest, tracking_no: str, offer_id: int, payload: WithdrawIn) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    offer = Offer.objects.filter(pk=offer_id, complaint_id=complaint.pk).first()
    if offer is None:
        raise Http404
    offer.complaint = complaint
    actions.withdraw_offer(
        offer, actor=Actor.staff(user), reason=payload.reason, expected_version=_version(request, payload.version)
    )
    return _thread_answer(complaint, user)


@router.post(
    "/complaints/{tracking_no}/agreement",
    summary="Generate the settlement agreement of the accepted offer if missing",
    openapi_extra=documented(created="The negotiation thread with the agreement", ok=False),
)
def settle(request: HttpRequest, tracking_no: str) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    actions.settle(complaint, actor=Actor.staff(user))
    return _thread_answer(complaint, user, status=201)
