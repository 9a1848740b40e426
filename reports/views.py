"""Staff pages: the export form (/staff/reports/export/) and the report page (/staff/reports/) with
the user's subscriptions. Thin: parse → check access → exports / documents → respond."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.choices import CASE_ROLES
from accounts.models import Department, OrgUnit
from complaints.choices import Channel, Priority, Status
from complaints.models import Category
from complaints.permissions import Principal
from core.errors import ValidationError

from . import documents, exports
from .access import REPORT_ROLES
from .figures import Scope
from .inputs import EXPORT_FORMATS, parse_export, parse_report, period_of
from .models import ReportSubscription


def export_user(request: HttpRequest) -> Any:
    if not Principal.of(request.user).roles & CASE_ROLES:
        raise PermissionDenied
    return request.user


def report_user(request: HttpRequest) -> Any:
    if not Principal.of(request.user).has(*REPORT_ROLES):
        raise PermissionDenied
    return request.user


@login_required
@require_http_methods(["GET", "POST"])
def export_page(request: HttpRequest) -> HttpResponse:
    user = export_user(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            export = parse_export(request.POST, may_include_personal=exports.may_include_personal(user))
            return exports.response(user, export, translation.get_language())
        except ValidationError as exc:
            errors = {k: str(v) for k, v in exc.errors.items()}
    return render(
        request,
        "reports/export.html",
        {
            "errors": errors,
            "values": request.POST if request.method == "POST" else {},
            "formats": EXPORT_FORMATS,
            "states": Status.choices,
            "priorities": Priority.choices,
            "channels": Channel.choices,
            "categories": Category.objects.filter(parent__isnull=True, active=True).order_by("order", "code"),
            "departments": Department.objects.order_by("code"),
            "may_include_personal": exports.may_include_personal(user),
        },
        status=400 if errors else 200,
    )


@login_required
@require_http_methods(["GET"])
def report_page(request: HttpRequest) -> HttpResponse:
    user = report_user(request)
    errors: dict[str, str] = {}
    if request.GET.get("period"):
        try:
            report = parse_report(request.GET)
            scope = Scope(user=user, org_unit=report.org_unit, department=report.department)
            filename, content_type, content = documents.render(scope, report.period, report.format, report.language)
            response = HttpResponse(content, content_type=content_type)
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
        except ValidationError as exc:
            errors = {k: str(v) for k, v in exc.errors.items()}
    last_month = period_of("monthly", timezone.localdate()).previous()
    return render(
        request,
        "reports/index.html",
        {
            "errors": errors,
            "values": request.GET or {"period": last_month.label, "kind": "monthly"},
            "units": OrgUnit.objects.order_by("path"),
            "departments": Department.objects.order_by("code"),
            "subscriptions": ReportSubscription.objects.filter(user=user, active=True).select_related(
                "org_unit", "department"
            ),
            "kinds": ReportSubscription.Kind.choices,
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def subscribe(request: HttpRequest) -> HttpResponse:
    user = report_user(request)
    kind = request.POST.get("kind", "")
    fmt = request.POST.get("format", "pdf")
    language = request.POST.get("language", "zh-hans")
    if (
        kind not in ReportSubscription.Kind.values
        or fmt not in ReportSubscription.Format.values
        or language not in ("zh-hans", "en")
    ):
        return HttpResponse(status=400)
    raw_unit = request.POST.get("org_unit") or ""
    unit = OrgUnit.objects.filter(pk=int(raw_unit)).first() if raw_unit.isdigit() else None
    department = Department.objects.filter(code=request.POST.get("department") or "").first()
    try:
        with transaction.atomic():
            ReportSubscription.objects.create(
                user=user, kind=kind, format=fmt, language=language, org_unit=unit, department=department
            )
    except IntegrityError:  # reports_one_active_subscription: the same order twice
        messages.info(request, _("您已订阅过相同的报告（类型、范围、格式和语言都相同），无需重复订阅。"))
    else:
        messages.success(request, _("已订阅。每期结束后的首个工作日发送到您的邮箱。"))
    return redirect("reports:index")


@login_required
@require_POST
def unsubscribe(request: HttpRequest, pk: int) -> HttpResponse:
    user = report_user(request)
    ReportSubscription.objects.filter(user=user, pk=pk).update(active=False)
    return redirect("reports:index")
