"""The case page's dossier panel: external proceedings (route out, documents, outcome), the dossier
download, and the crisis checklist. Thin views: parse → check access → the same actions as the API →
back to the case page (a refusal re-renders it with the reason in the panel)."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from complaints import actions as case_actions
from complaints.ledgering import Actor
from complaints.permissions import get_complaint_for_user
from complaints.views import _conflict, _staff, case
from core.errors import DomainError, TransitionNotAllowed, ValidationError, VersionConflict

from . import actions, export
from .forms import end_of_day, parse_date, parse_datetime_local, text, version
from .models import ExternalProceeding


def _run_form(request: HttpRequest, tracking_no: str, run: Callable[[], Any], anchor: str = "#dossier") -> HttpResponse:
    try:
        run()
    except ValidationError as exc:
        return case(request, tracking_no, {"action": "dossier", "fields": {k: str(v) for k, v in exc.errors.items()}})
    except VersionConflict:
        return case(request, tracking_no, {"action": "dossier", "message": _conflict()})
    except TransitionNotAllowed as exc:
        return case(request, tracking_no, {"action": "dossier", "message": exc.reason or str(exc)})
    except (PermissionDenied, DomainError) as exc:
        return case(request, tracking_no, {"action": "dossier", "message": str(exc)})
    return redirect(reverse("complaints:case", args=[tracking_no]) + anchor)


@login_required
@require_POST
def route(request: HttpRequest, tracking_no: str) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)

    def run() -> None:
        case_actions.route_external(
            complaint,
            actor=Actor.staff(user),
            route=request.POST.get("route", ""),
            body=text(request.POST, "body"),
            reference=text(request.POST, "reference"),
            due_at=end_of_day(parse_date(request.POST.get("due_on", ""), "due_at")),
            note=text(request.POST, "note"),
            expected_version=version(request.POST),
        )

    return _run_form(request, tracking_no, run)


@login_required
@require_POST
def outcome(request: HttpRequest, tracking_no: str) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)

    def run() -> None:
        case_actions.record_external_outcome(
            complaint,
            actor=Actor.staff(user),
            resolved=request.POST.get("resolved") == "on",
            note=text(request.POST, "note"),
            decision=request.POST.get("decision", ""),
            amount=text(request.POST, "amount"),
            expected_version=version(request.POST),
        )

    return _run_form(request, tracking_no, run)


@login_required
@require_POST
def document(request: HttpRequest, tracking_no: str, pk: int) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    proceeding = ExternalProceeding.objects.filter(pk=pk, complaint_id=complaint.pk).first()
    if proceeding is None:
        raise Http404
    proceeding.complaint = complaint
    upload = request.FILES.get("file")

    def run() -> None:
        if upload is None:
            raise ValidationError("file", _("请选择文书文件。"))
        actions.add_external_document(
            proceeding,
            actor=Actor.staff(user),
            direction=request.POST.get("direction", ""),
            exchanged_on=parse_date(request.POST.get("exchanged_on", ""), "exchanged_on"),
            description=text(request.POST, "description"),
            content=upload,
            filename=upload.name or "file",
            kind=request.POST.get("kind", "third_party_proof"),
            expected_version=version(request.POST),
        )

    return _run_form(request, tracking_no, run)


@login_required
@require_POST
def download(request: HttpRequest, tracking_no: str) -> HttpResponse:
    """The dossier ZIP (POST: building it writes the export_dossier event)."""
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no)
    try:
        built = export.build(complaint, actor=Actor.staff(user))
    except (PermissionDenied, TransitionNotAllowed) as exc:
        return case(request, tracking_no, {"action": "dossier", "message": getattr(exc, "reason", "") or str(exc)})
    return _zip_response(built)


def _zip_response(built: export.Built) -> FileResponse:
    response = FileResponse(built.file, as_attachment=True, filename=built.filename, content_type="application/zip")
    response["Cache-Control"] = "private, no-store"
    response["X-Dossier-Manifest-SHA256"] = built.manifest_sha256
    return response


CRISIS_FORMS = {
    # verb: (action, {action keyword: posted field})
    "facts": ("verify_crisis_facts", {"note": "note"}),
    "statement": ("draft_crisis_statement", {"text": "statement"}),
    "approve": ("approve_crisis_statement", {"note": "note"}),
    "media": ("log_media_contact", {"outlet": "outlet", "person": "person", "summary": "summary"}),
    "confirm": ("confirm_media_contacts", {"note": "note"}),
}


@login_required
@require_POST
def crisis(request: HttpRequest, tracking_no: str, verb: str) -> HttpResponse:
    user = _staff(request)
    if verb not in CRISIS_FORMS:
        raise Http404
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    action, fields = CRISIS_FORMS[verb]

    def run() -> None:
        kwargs: dict[str, Any] = {key: text(request.POST, posted) for key, posted in fields.items()}
        if verb == "media":
            kwargs["contacted_at"] = parse_datetime_local(request.POST.get("contacted_at", ""), "contacted_at")
        getattr(actions, action)(complaint, actor=Actor.staff(user), expected_version=version(request.POST), **kwargs)

    return _run_form(request, tracking_no, run, "#crisis")
