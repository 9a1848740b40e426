"""Evidence over the API: staff (token or session) and the consumer (tracking number + access code in
the X-Access-Code header). Uploads are multipart/form-data with a `file` part."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field

from complaints.api import StaffSession, TokenAuth, _detail_response, _expected_version, _user
from complaints.ledgering import Actor
from complaints.permissions import Principal, get_complaint_for_user
from core.api_schema import documented
from core.http import json_response
from core.validation import CleanText
from intake.access import ACCESS_CODE_HEADER
from intake.api import _own_case
from privacy.audit import record_case_read

from . import actions
from .choices import EvidenceKind, Via
from .http import file_response
from .models import Evidence
from .selectors import describe, describe_for_consumer, items_for_consumer, items_for_staff

router = Router(tags=["evidence"], auth=[TokenAuth(), StaffSession()])
public_router = Router(tags=["public"])


def _item(complaint_pk: int, pk: int, *, staff: bool = True) -> Evidence:
    """An item of the case (or, for staff, of a case merged into it)."""
    from django.db.models import Q

    query = (
        Q(complaint_id=complaint_pk) | Q(complaint__merged_into_id=complaint_pk)
        if staff
        else Q(complaint_id=complaint_pk)
    )
    item = Evidence.objects.select_related("complaint").filter(query, pk=pk).first()
    if item is None:
        raise Http404
    return item


@router.get("/complaints/{tracking_no}/evidence", summary="The case's evidence items (and those of merged cases)")
def list_evidence(request: HttpRequest, tracking_no: str) -> list[dict[str, Any]]:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    masked = Principal.of(user).masked_for(complaint)
    record_case_read(user, complaint, "evidence")  # issue 9: a read of personal data is a ledger event
    return [describe(item, masked=masked) for item in items_for_staff(complaint)]


@router.post(
    "/complaints/{tracking_no}/evidence",
    summary="Upload an evidence file (chain of custody starts)",
    openapi_extra=documented(created="The evidence item", ok=False),
)
def upload_evidence(
    request: HttpRequest,
    tracking_no: str,
    file: File[UploadedFile],
    kind: Form[EvidenceKind],
    description: Form[str] = "",
    shown_to_consumer: Form[bool] = False,
) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    item = actions.add_evidence(
        complaint,
        content=file,
        filename=file.name or "file",
        kind=kind,
        actor=Actor.staff(user),
        via=Via.API,
        description=description,
        shown_to_consumer=shown_to_consumer,
    )
    return json_response(describe(item), status=201)


def _content(request: HttpRequest, tracking_no: str, evidence_id: int, *, download: bool) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    if Principal.of(user).masked_for(complaint):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("分析角色不能查看证据文件内容。"))
    item = _item(complaint.pk, evidence_id)
    if item.deleted_at is not None:
        return json_response({"error": "gone", "message": _("该证据文件已按保存期限删除。")}, status=410)
    actions.record_access(item, actor=Actor.staff(user), how="download" if download else "view")
    return file_response(item, download=download)


@router.get(
    "/complaints/{tracking_no}/evidence/{evidence_id}/content",
    summary="Download an evidence file",
    openapi_extra=documented(410),
)
def download_evidence(request: HttpRequest, tracking_no: str, evidence_id: int) -> HttpResponse:
    return _content(request, tracking_no, evidence_id, download=True)


@router.get(
    "/complaints/{tracking_no}/evidence/{evidence_id}/view",
    summary="View an evidence file in the browser",
    openapi_extra=documented(410),
)
def view_evidence(request: HttpRequest, tracking_no: str, evidence_id: int) -> HttpResponse:
    return _content(request, tracking_no, evidence_id, download=False)


class DeleteIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: CleanText = Field(min_length=2, max_length=2000)


@router.post("/complaints/{tracking_no}/evidence/{evidence_id}/delete", summary="Delete a file after retention")
def delete_evidence(request: HttpRequest, tracking_no: str, evidence_id: int, payload: DeleteIn) -> dict[str, Any]:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    item = actions.delete_evidence(
        _item(complaint.pk, evidence_id, staff=False), actor=Actor.staff(user), reason=payload.reason
    )
    return describe(item)


class LegalHoldIn(Schema):
    model_config = ConfigDict(extra="forbid")
    on: bool
    reason: CleanText = Field(min_length=2, max_length=2000)
    version: int | None = None


@router.post("/complaints/{tracking_no}/legal-hold", summary="Set or lift a legal hold")
def legal_hold(request: HttpRequest, tracking_no: str, payload: LegalHoldIn) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    expected = _expected_version(request, payload.version)
    updated = actions.set_legal_hold(
        complaint, actor=Actor.staff(user), on=payload.on, reason=payload.reason, expected_version=expected
    )
    return _detail_response(request, updated, user)


# --- the consumer ---------------------------------------------------------------------------


@public_router.get(
    "/public/complaints/{tracking_no}/evidence",
    auth=None,
    summary="Your evidence items",
    openapi_extra={"parameters": [ACCESS_CODE_HEADER]},
)
def consumer_list(request: HttpRequest, tracking_no: str) -> list[dict[str, Any]]:
    complaint = _own_case(request, tracking_no)
    return [describe_for_consumer(item) for item in items_for_consumer(complaint)]


@public_router.post(
    "/public/complaints/{tracking_no}/evidence",
    auth=None,
    summary="Send evidence with your complaint or when asked for information",
    openapi_extra=documented(created="The evidence item", ok=False, parameters=[ACCESS_CODE_HEADER]),
)
def consumer_upload(
    request: HttpRequest, tracking_no: str, file: File[UploadedFile], description: Form[str] = ""
) -> HttpResponse:
    complaint = _own_case(request, tracking_no)
    item = actions.add_evidence(
        complaint,
        content=file,
        filename=file.name or "file",
        kind=EvidenceKind.COMPLAINT_MATERIAL,
        actor=Actor.consumer(),
        via=Via.API,
        description=description,
    )
    return json_response(describe_for_consumer(item), status=201)
