"""External proceedings, the case dossier and the crisis checklist over the API (staff: token or
session). Writes may carry the case version (If-Match or `version`); without one they apply to the
current version. Opening and closing a proceeding are complaints.actions.route_external /
record_external_outcome, the same functions as the case page's panel."""

from datetime import date, datetime
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field

from complaints import actions as case_actions
from complaints.api import StaffSession, TokenAuth, _expected_version, _user
from complaints.choices import ExternalRoute
from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.permissions import Principal, get_complaint_for_user
from core.api_schema import documented
from core.http import json_response
from core.validation import BoundedDate, BoundedDatetime, CleanText
from evidence.choices import EvidenceKind
from privacy.audit import record_case_read

from . import actions, export
from .choices import Decision, DocumentDirection
from .forms import end_of_day
from .models import ExternalProceeding
from .selectors import allowed, checklists_of, describe_checklist, describe_proceeding, proceedings_of

router = Router(tags=["dossier"], auth=[TokenAuth(), StaffSession()])


def _version(request: HttpRequest, version: int | None) -> int | None:
    if version is None and not request.headers.get("If-Match", "").strip():
        return None
    return _expected_version(request, version)


def _state(complaint: Complaint, user: Any, status: int = 200, **extra: Any) -> HttpResponse:
    complaint = Complaint.objects.select_related("org_unit").get(pk=complaint.pk)
    masked = Principal.of(user).masked_for(complaint)
    body = {
        "tracking_no": complaint.tracking_no,
        "status": complaint.status,
        "escalation_level": complaint.escalation_level,
        "regulator_due_at": complaint.regulator_due_at.isoformat() if complaint.regulator_due_at else None,
        "proceedings": [describe_proceeding(p, masked=masked) for p in proceedings_of(complaint)],
        "crisis_checklists": [describe_checklist(cl, masked=masked) for cl in checklists_of(complaint)],
        "may": allowed(complaint, user),
        **extra,
    }
    response = json_response(body, status=status)
    response["ETag"] = f'"{complaint.version}"'
    return response


@router.get("/complaints/{tracking_no}/proceedings", summary="External proceedings, documents and crisis checklists")
def list_proceedings(request: HttpRequest, tracking_no: str) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    record_case_read(user, complaint, "proceedings")  # issue 9: a read of personal data is a ledger event
    return _state(complaint, user)


class RouteIn(Schema):
    model_config = ConfigDict(extra="forbid")
    route: ExternalRoute
    body: CleanText = Field(max_length=200)
    reference: CleanText = Field("", max_length=100)
    # A date (the end of that day, organisation time zone) or an instant; required for a regulator.
    due_at: BoundedDatetime | BoundedDate | None = None
    note: CleanText = Field("", max_length=2000)
    version: int | None = Field(None, ge=1)


def _due(value: datetime | date | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        if isinstance(value, datetime) and timezone.is_naive(value):
            return timezone.make_aware(value, timezone.get_default_timezone())
        return value
    return end_of_day(value)


@router.post(
    "/complaints/{tracking_no}/proceedings",
    summary="Route the case to an external procedure",
    openapi_extra=documented(created="The case's proceedings", ok=False),
)
def route(request: HttpRequest, tracking_no: str, payload: RouteIn) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    case_actions.route_external(
        complaint,
        actor=Actor.staff(user),
        route=payload.route,
        body=payload.body,
        reference=payload.reference,
        due_at=_due(payload.due_at),
        note=payload.note,
        expected_version=_version(request, payload.version),
    )
    return _state(complaint, user, status=201)


class ProceedingOutcomeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    resolved: bool
    note: CleanText = Field(max_length=5000)
    decision: Decision | None = None
    amount: str | int | float | None = None
    version: int | None = Field(None, ge=1)


@router.post("/complaints/{tracking_no}/proceedings/outcome", summary="Record the external outcome (closes it)")
def outcome(request: HttpRequest, tracking_no: str, payload: ProceedingOutcomeIn) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    case_actions.record_external_outcome(
        complaint,
        actor=Actor.staff(user),
        resolved=payload.resolved,
        note=payload.note,
        decision=payload.decision or "",
        amount=payload.amount,
        expected_version=_version(request, payload.version),
    )
    return _state(complaint, user)


@router.post(
    "/complaints/{tracking_no}/proceedings/{proceeding_id}/documents",
    summary="Add a document sent or received (multipart: file, direction, exchanged_on, description)",
    openapi_extra=documented(created="The case's proceedings", ok=False),
)
def add_document(
    request: HttpRequest,
    tracking_no: str,
    proceeding_id: int,
    file: File[UploadedFile],
    direction: Form[DocumentDirection],
    exchanged_on: Form[BoundedDate],
    description: Form[CleanText],
    kind: Form[EvidenceKind] = EvidenceKind.THIRD_PARTY_PROOF,
    version: Form[int | None] = None,
) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    proceeding = ExternalProceeding.objects.filter(pk=proceeding_id, complaint_id=complaint.pk).first()
    if proceeding is None:
        raise Http404
    proceeding.complaint = complaint
    actions.add_external_document(
        proceeding,
        actor=Actor.staff(user),
        direction=direction,
        exchanged_on=exchanged_on,
        description=description,
        content=file,
        filename=file.name or "file",
        kind=kind,
        expected_version=_version(request, version),
    )
    return _state(complaint, user, status=201)


@router.post(
    "/complaints/{tracking_no}/dossier", summary="Export and download the case dossier (ZIP; recorded in the ledger)"
)
def dossier(request: HttpRequest, tracking_no: str) -> FileResponse:
    """PDF + evidence files + the case's ledger chain and sealing checkpoint + verify.py. A POST: each export is
    an export_dossier event naming the manifest's SHA-256 (header X-Dossier-Manifest-SHA256)."""
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    built = export.build(complaint, actor=Actor.staff(user))
    response = FileResponse(built.file, as_attachment=True, filename=built.filename, content_type="application/zip")
    response["Cache-Control"] = "private, no-store"
    response["X-Dossier-Manifest-SHA256"] = built.manifest_sha256
    return response


class CrisisNoteIn(Schema):
    model_config = ConfigDict(extra="forbid")
    note: CleanText = Field("", max_length=5000)
    version: int | None = Field(None, ge=1)


class StatementIn(Schema):
    model_config = ConfigDict(extra="forbid")
    text: CleanText = Field(max_length=5000)
    version: int | None = Field(None, ge=1)


class MediaContactIn(Schema):
    model_config = ConfigDict(extra="forbid")
    outlet: CleanText = Field(max_length=200)
    person: CleanText = Field("", max_length=100)
    contacted_at: BoundedDatetime
    summary: CleanText = Field(max_length=2000)
    version: int | None = Field(None, ge=1)


def _crisis(request: HttpRequest, tracking_no: str, action: str, version: int | None, **kwargs: Any) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    getattr(actions, action)(complaint, actor=Actor.staff(user), expected_version=_version(request, version), **kwargs)
    return _state(complaint, user)


@router.post("/complaints/{tracking_no}/crisis/facts", summary="Crisis checklist: the facts are verified")
def crisis_facts(request: HttpRequest, tracking_no: str, payload: CrisisNoteIn) -> HttpResponse:
    return _crisis(request, tracking_no, "verify_crisis_facts", payload.version, note=payload.note)


@router.post("/complaints/{tracking_no}/crisis/statement", summary="Crisis checklist: draft the statement")
def crisis_statement(request: HttpRequest, tracking_no: str, payload: StatementIn) -> HttpResponse:
    return _crisis(request, tracking_no, "draft_crisis_statement", payload.version, text=payload.text)


@router.post(
    "/complaints/{tracking_no}/crisis/statement/approve", summary="Crisis checklist: legal/PR approve (not the drafter)"
)
def crisis_approve(request: HttpRequest, tracking_no: str, payload: CrisisNoteIn) -> HttpResponse:
    return _crisis(request, tracking_no, "approve_crisis_statement", payload.version, note=payload.note)


@router.post("/complaints/{tracking_no}/crisis/media-contacts", summary="Crisis checklist: log a media contact")
def crisis_media(request: HttpRequest, tracking_no: str, payload: MediaContactIn) -> HttpResponse:
    contacted_at = payload.contacted_at
    if timezone.is_naive(contacted_at):
        contacted_at = timezone.make_aware(contacted_at, timezone.get_default_timezone())
    return _crisis(
        request,
        tracking_no,
        "log_media_contact",
        payload.version,
        outlet=payload.outlet,
        person=payload.person,
        contacted_at=contacted_at,
        summary=payload.summary,
    )


@router.post(
    "/complaints/{tracking_no}/crisis/media-contacts/confirm", summary="Crisis checklist: media contacts all logged"
)
def crisis_confirm(request: HttpRequest, tracking_no: str, payload: CrisisNoteIn) -> HttpResponse:
    return _crisis(request, tracking_no, "confirm_media_contacts", payload.version, note=payload.note)
