"""Contacts, written replies, reply templates and the closing checklist over the API (staff: token or
session). Writes may carry the case version (If-Match or `version`); without one they apply to the
current version. A recording goes up through the evidence endpoint first and is linked by
`evidence_id`."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from complaints.actions import check_may
from complaints.api import StaffSession, TokenAuth, _expected_version, _user
from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.permissions import Principal, get_complaint_for_user
from core.api_schema import documented
from core.errors import ValidationError
from core.http import json_response
from core.validation import BoundedDatetime, CleanText
from evidence.choices import Via
from evidence.models import Evidence
from privacy.audit import record_case_read

from . import actions
from .choices import ContactChannel, Direction, Party, Purpose, ThirdPartyKind
from .models import ReplyTemplate
from .selectors import (
    contacts_of,
    describe_checklist,
    describe_contact,
    describe_reply,
    render_template,
    replies_of,
    templates_for,
)

router = Router(tags=["casework"], auth=[TokenAuth(), StaffSession()])


def _version(request: HttpRequest, version: int | None) -> int | None:
    if version is None and not request.headers.get("If-Match", "").strip():
        return None
    return _expected_version(request, version)


def _with_etag(body: dict[str, Any], complaint: Complaint, status: int = 200) -> HttpResponse:
    response = json_response(body, status=status)
    response["ETag"] = f'"{Complaint.objects.values_list("version", flat=True).get(pk=complaint.pk)}"'
    return response


@router.get("/complaints/{tracking_no}/contacts", summary="The case's contact log (沟通记录)")
def list_contacts(request: HttpRequest, tracking_no: str) -> list[dict[str, Any]]:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    masked = Principal.of(user).masked_for(complaint)
    record_case_read(user, complaint, "contacts")  # issue 9: a read of personal data is a ledger event
    return [describe_contact(k, masked=masked) for k in contacts_of(complaint)]


class ContactIn(Schema):
    model_config = ConfigDict(extra="forbid")
    direction: Direction
    party: Party = Party.CONSUMER
    third_party_kind: ThirdPartyKind | None = None
    third_party_name: CleanText = Field("", max_length=100)
    channel: ContactChannel
    occurred_at: BoundedDatetime
    duration_seconds: int | None = Field(None, ge=0, le=24 * 3600)
    summary: CleanText = Field(max_length=5000)
    evidence_id: int | None = Field(None, ge=1)
    version: int | None = Field(None, ge=1)


@router.post(
    "/complaints/{tracking_no}/contacts",
    summary="Log a contact with the consumer or a third party",
    openapi_extra=documented(created="The contact entry", ok=False),
)
def add_contact(request: HttpRequest, tracking_no: str, payload: ContactIn) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    actor = Actor.staff(user)
    check_may(complaint, actor, "add_contact")
    evidence = None
    if payload.evidence_id is not None:
        evidence = Evidence.objects.filter(pk=payload.evidence_id, complaint_id=complaint.pk).first()
        if evidence is None:
            raise ValidationError("evidence_id", _("该证据不属于此投诉。"))
    contact = actions.add_contact(
        complaint,
        actor=actor,
        direction=payload.direction,
        party=payload.party,
        third_party_kind=payload.third_party_kind or "",
        third_party_name=payload.third_party_name,
        channel=payload.channel,
        occurred_at=payload.occurred_at,
        duration_seconds=payload.duration_seconds,
        summary=payload.summary,
        evidence=evidence,
        via=Via.API,
        expected_version=_version(request, payload.version),
    )
    return _with_etag(describe_contact(contact), complaint, status=201)


@router.get("/complaints/{tracking_no}/replies", summary="The written replies sent to the consumer")
def list_replies(request: HttpRequest, tracking_no: str) -> list[dict[str, Any]]:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    masked = Principal.of(user).masked_for(complaint)
    record_case_read(user, complaint, "replies")  # issue 9: a read of personal data is a ledger event
    return [describe_reply(r, masked=masked) for r in replies_of(complaint)]


class ReplyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    text: CleanText = Field(max_length=20_000)
    template_id: int | None = Field(None, ge=1)
    version: int | None = Field(None, ge=1)


@router.post(
    "/complaints/{tracking_no}/replies",
    summary="Send the written reply (status page, and mail)",
    openapi_extra=documented(created="The reply", ok=False),
)
def send_reply(request: HttpRequest, tracking_no: str, payload: ReplyIn) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    actor = Actor.staff(user)
    check_may(complaint, actor, "send_reply")
    template = None
    if payload.template_id is not None:
        template = ReplyTemplate.objects.filter(pk=payload.template_id, purpose=Purpose.REPLY, active=True).first()
        if template is None:
            raise ValidationError("template_id", _("模板不存在或已停用。"))
    reply = actions.send_reply(
        complaint,
        actor=actor,
        text=payload.text,
        template=template,
        expected_version=_version(request, payload.version),
    )
    return _with_etag(describe_reply(reply), complaint, status=201)


class TemplateFilter(Schema):
    model_config = ConfigDict(extra="forbid")
    purpose: Purpose = Purpose.REPLY


@router.get(
    "/complaints/{tracking_no}/reply-templates",
    summary="Reply templates for the case, best match first, rendered with the case's values",
    openapi_extra=documented(409),
)
def case_templates(request: HttpRequest, tracking_no: str, params: Query[TemplateFilter]) -> list[dict[str, Any]]:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    check_may(complaint, Actor.staff(user), "send_reply" if params.purpose == Purpose.REPLY else "add_contact")
    return [
        {
            "id": t.pk,
            "name": t.name,
            "category": t.category.code if t.category_id else None,
            "language": t.language,
            "purpose": t.purpose,
            "text": render_template(t, complaint),
        }
        for t in templates_for(complaint, params.purpose)
    ]


@router.get("/complaints/{tracking_no}/closing-checklist", summary="The closing checklist as the case stands")
def closing_checklist(request: HttpRequest, tracking_no: str) -> dict[str, Any]:
    user = _user(request)
    return describe_checklist(get_complaint_for_user(user, tracking_no))
