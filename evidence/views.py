"""The case page's evidence panel: upload, view, download (each a ledger event), legal hold."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from complaints.ledgering import Actor
from complaints.permissions import Principal, get_complaint_for_user
from complaints.views import _conflict, _staff, case
from core.errors import DomainError, TransitionNotAllowed, ValidationError, VersionConflict

from . import actions
from .choices import EvidenceKind, Via
from .http import file_response
from .models import Evidence


def _back(tracking_no: str, anchor: str) -> HttpResponse:
    return redirect(reverse("complaints:case", args=[tracking_no]) + anchor)


@login_required
@require_POST
def upload(request: HttpRequest, tracking_no: str) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    files = request.FILES.getlist("file")
    kind = request.POST.get("kind", "")
    errors: dict[str, str] = {}
    if not files:
        errors["file"] = _("请选择要上传的文件。")
    if kind not in EvidenceKind.values:
        errors["kind"] = _("请选择证据类型。")
    if not errors:
        try:
            for upload_file in files:  # checked one by one: a refused file names itself
                actions.check_evidence(upload_file, upload_file.name or "", kind)
            for upload_file in files:
                actions.add_evidence(
                    complaint,
                    content=upload_file,
                    filename=upload_file.name or "file",
                    kind=kind,
                    actor=Actor.staff(user),
                    via=Via.STAFF,
                    description=request.POST.get("description", ""),
                    shown_to_consumer=request.POST.get("shown_to_consumer") == "on",
                )
        except ValidationError as exc:
            errors.update({k: str(v) for k, v in exc.errors.items()})
        except (TransitionNotAllowed, DomainError) as exc:
            return case(request, tracking_no, {"action": "add_evidence", "message": str(exc)})
    if errors:
        return case(request, tracking_no, {"action": "add_evidence", "fields": errors})
    return _back(tracking_no, "#evidence")


@login_required
@require_GET
def content(request: HttpRequest, tracking_no: str, pk: int, how: str) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no)
    if Principal.of(user).masked_for(complaint):
        raise PermissionDenied(_("分析角色不能查看证据文件内容。"))
    item = (
        Evidence.objects.filter(pk=pk, deleted_at__isnull=True)
        .filter(complaint_id__in=[complaint.pk, *complaint.merged_cases.values_list("pk", flat=True)])
        .select_related("complaint")
        .first()
    )
    if item is None or how not in {"view", "download"}:
        raise Http404
    actions.record_access(item, actor=Actor.staff(user), how=how)
    return file_response(item, download=how == "download")


@login_required
@require_POST
def legal_hold(request: HttpRequest, tracking_no: str) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    try:
        actions.set_legal_hold(
            complaint,
            actor=Actor.staff(user),
            on=request.POST.get("on") == "1",
            reason=request.POST.get("reason", ""),
            expected_version=int(request.POST.get("version", "0") or 0),
        )
    except ValidationError as exc:
        return case(
            request, tracking_no, {"action": "set_legal_hold", "fields": {k: str(v) for k, v in exc.errors.items()}}
        )
    except VersionConflict:
        return case(request, tracking_no, {"action": "set_legal_hold", "message": _conflict()})
    except (TransitionNotAllowed, DomainError, ValueError) as exc:
        return case(request, tracking_no, {"action": "set_legal_hold", "message": str(exc)})
    return _back(tracking_no, "#legal-hold")
