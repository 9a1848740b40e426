"""Customer pages: the search list, the profile, care actions (create, done, cancel, "my care
actions") and the orders / service-records upload. Thin views: parse → check access → the same
actions and selectors as the API → render."""

from datetime import date, datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.choices import CASE_ROLES, Role
from complaints.ledgering import Actor
from complaints.permissions import Principal
from core.errors import ValidationError

from . import actions, importer, selectors
from .access import may_search, profile_access, profile_or_404
from .choices import CareKind, CareStatus, ImportKind
from .models import CareAction, Customer, CustomerDataImport

SHOWN_ERRORS = 100


def _searcher(request: HttpRequest) -> Any:
    if not may_search(request.user):
        raise PermissionDenied
    return request.user


def _masked_searcher(user: Any) -> bool:
    principal = Principal.of(user)
    return Role.ANALYST in principal.roles and Role.AUDITOR not in principal.roles


@login_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    """The search list shows every row masked, for everyone: a list view records nothing on the
    ledger, so the full details are on the profile, whose unmasked view is recorded."""
    user = _searcher(request)
    q = request.GET.get("q", "")[:100]
    masked = _masked_searcher(user)
    rows = selectors.list_rows(list(selectors.search(user, q, masked=masked)))
    return render(request, "customers/list.html", {"rows": rows, "q": q, "masked": masked})


def load_profile(user: Any, customer: Customer, access: Any) -> dict[str, Any]:
    """The profile, and the ledger events of an unmasked view (one per case of the person)."""
    data = selectors.profile(customer, user, access)
    if not data["masked"] and data["complaint_ids"]:
        from privacy.audit import record_personal_access

        record_personal_access(data["complaint_ids"], actor=Actor.staff(user), how="profile")
    return data


def _profile_page(request: HttpRequest, pk: int, error: dict[str, Any] | None = None) -> HttpResponse:
    customer, access = profile_or_404(request.user, pk)
    data = load_profile(request.user, customer, access)
    return render(
        request,
        "customers/profile.html",
        {
            "p": data,
            "kinds": CareKind.choices,
            "error": error or {},
            "status": 400 if error else 200,
        },
        status=400 if error else 200,
    )


@login_required
@require_GET
def profile(request: HttpRequest, pk: int) -> HttpResponse:
    return _profile_page(request, pk)


def _due(raw: str) -> datetime | None:
    from complaints.calendar import add_working_days, end_of_day

    text = (raw or "").strip()
    if not text:
        return add_working_days(timezone.now(), 1)
    try:
        return end_of_day(date.fromisoformat(text))
    except ValueError:
        raise ValidationError("due_on", _("应为日期（YYYY-MM-DD）。")) from None


def _user_by_name(raw: str) -> Any:
    from accounts.models import User

    name = (raw or "").strip()
    if not name:
        return None
    found = User.objects.filter(username=name, is_active=True).first()
    if found is None:
        raise ValidationError("assignee", _("找不到在职员工：%(name)s") % {"name": name[:40]})
    return found


@login_required
@require_POST
def create_care(request: HttpRequest, pk: int) -> HttpResponse:
    customer, access = profile_or_404(request.user, pk)
    if not access.writer:
        raise PermissionDenied
    values = {k: request.POST.get(k, "") for k in ("kind", "assignee", "due_on", "note", "tracking_no")}
    errors: dict[str, str] = {}
    due = assignee = complaint = None
    try:
        due = _due(values["due_on"])
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        assignee = _user_by_name(values["assignee"]) or request.user
    except ValidationError as exc:
        errors.update(exc.errors)
    if values["tracking_no"]:
        from complaints.models import Complaint

        complaint = (
            Complaint.objects.visible_to(request.user)
            .filter(customer_id=customer.pk, tracking_no=values["tracking_no"].strip())
            .first()
        )
        if complaint is None:
            errors["tracking_no"] = _("该客户没有您可见的这件投诉。")
    try:
        actions.check_care(
            kind=values["kind"],
            assignee=assignee,
            due_at=due,
            note=values["note"],
            complaint=complaint,
            customer=customer,
        )
    except ValidationError as exc:
        for field, message in exc.errors.items():
            if not (field == "due_at" and "due_on" in errors):
                errors.setdefault(field, message)
    try:
        if errors:
            raise ValidationError(errors)
        actions.create_care_action(
            customer,
            actor=Actor.staff(request.user),
            kind=values["kind"],
            due_at=due,
            assignee=assignee,
            complaint=complaint,
            note=values["note"],
        )
    except ValidationError as exc:
        return _profile_page(
            request,
            pk,
            {"action": "create_care", "fields": {k: str(v) for k, v in exc.errors.items()}, "values": values},
        )
    return redirect(reverse("customers:profile", args=[pk]) + "#care")


def _finish(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    if not may_search(request.user):
        raise PermissionDenied  # a role that never opens profiles: says nothing about this id
    care = CareAction.objects.select_related("customer").filter(pk=pk).first()
    if care is None:
        raise Http404
    if not actions.may_work_on(request.user, care):
        # One who may see the care action on the profile (an analyst, an auditor) learns nothing
        # from a 403; anyone else gets the 404 of a missing one.
        if selectors.may_see_care(request.user, care):
            raise PermissionDenied
        raise Http404
    note = request.POST.get("note", "")
    try:
        if verb == "done":
            actions.complete_care_action(care, actor=Actor.staff(request.user), note=note)
        else:
            actions.cancel_care_action(care, actor=Actor.staff(request.user), note=note)
    except ValidationError as exc:
        error = {"action": f"care_{care.pk}", "fields": {k: str(v) for k, v in exc.errors.items()}}
        if profile_access(request.user, care.customer).allowed:
            return _profile_page(request, care.customer_id, error)
        return _my_care_page(request, error)
    back = request.POST.get("next", "")
    if back == "mine":
        return redirect("customers:my_care")
    return redirect(reverse("customers:profile", args=[care.customer_id]) + "#care")


@login_required
@require_POST
def care_done(request: HttpRequest, pk: int) -> HttpResponse:
    return _finish(request, pk, "done")


@login_required
@require_POST
def care_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _finish(request, pk, "cancel")


def _my_care_page(request: HttpRequest, error: dict[str, Any] | None = None) -> HttpResponse:
    state = request.GET.get("state", "open")
    rows = list(selectors.my_care_actions(request.user, state))
    now = timezone.now()
    return render(
        request,
        "customers/my_care.html",
        {
            "rows": [{"care": c, "overdue": c.status == CareStatus.OPEN and c.due_at < now} for c in rows],
            "state": state,
            "states": [("open", _("待办")), ("done", _("已完成")), ("cancelled", _("已取消")), ("all", _("全部"))],
            "error": error or {},
        },
        status=400 if error else 200,
    )


@login_required
@require_GET
def my_care(request: HttpRequest) -> HttpResponse:
    if not Principal.of(request.user).roles & CASE_ROLES:
        raise PermissionDenied
    return _my_care_page(request)


# --- import --------------------------------------------------------------------------------------


def _importer(request: HttpRequest) -> Any:
    """Orders and service records come from the shop's systems: admins, supervisors and managers."""
    if not Principal.of(request.user).has(Role.ADMIN, Role.SUPERVISOR, Role.MANAGER):
        raise PermissionDenied
    return request.user


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    from django.conf import settings

    user = _importer(request)
    context: dict[str, Any] = {"kinds": ImportKind.choices, "formats": importer.FORMATS, "errors": {}}
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        fmt = request.POST.get("format", "")
        upload_file = request.FILES.get("file")
        dry_run = request.POST.get("dry_run") == "on"
        context["values"] = {"kind": kind, "format": fmt, "dry_run": dry_run}
        errors: dict[str, str] = {}
        if kind not in ImportKind.values:
            errors["kind"] = _("请选择导入类型（订单或服务记录）。")
        if fmt not in importer.FORMATS:
            errors["format"] = _("请选择文件格式（csv 或 xlsx）。")
        if upload_file is None:
            errors["file"] = _("请选择要上传的文件。")
        elif upload_file.size > settings.COMPLAINTDESK_CUSTOMER_IMPORT_MAX_BYTES:
            errors["file"] = _("文件过大（最多 %(n)d MB）。") % {
                "n": settings.COMPLAINTDESK_CUSTOMER_IMPORT_MAX_BYTES // (1024 * 1024)
            }
        if not errors:
            assert upload_file is not None
            try:
                result = importer.import_file(upload_file, kind=kind, fmt=fmt, source=upload_file.name, dry_run=dry_run)
            except importer.ImportRefused as exc:
                errors["file"] = str(exc)
            else:
                run = importer.record_run(result, kind=kind, filename=upload_file.name, dry_run=dry_run, user=user)
                return redirect("customers:import_run", pk=run.pk)
        context["errors"] = errors
        return render(request, "customers/upload.html", context, status=400)
    context["runs"] = CustomerDataImport.objects.all()[:20]
    return render(request, "customers/upload.html", context)


@login_required
@require_GET
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    _importer(request)
    run = get_object_or_404(CustomerDataImport, pk=pk)
    return render(
        request,
        "customers/import_run.html",
        {"run": run, "errors": run.errors[:SHOWN_ERRORS], "more": len(run.errors) > SHOWN_ERRORS},
    )


@login_required
@require_GET
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    _importer(request)
    run = get_object_or_404(CustomerDataImport, pk=pk)
    response = HttpResponse(importer.error_report(run.errors), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="customer-import-{run.pk}-errors.csv"'
    return response
