"""The sales-volume page: upload a CSV/XLSX of orders and revenue (analytics.sales_import), see the
result (row errors listed) and the figures held per month. For admins and analysts."""

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.choices import Role
from complaints.permissions import Principal

from . import sales_import

SHOWN_ERRORS = 200


def check_sales_admin(user: Any) -> None:
    """Sales figures come from the sales system: admins and analysts load and read them."""
    if not Principal.of(user).has(Role.ADMIN, Role.ANALYST):
        raise PermissionDenied(_("只有管理员和分析角色可以导入销量数据。"))


def max_bytes() -> int:
    return int(getattr(settings, "COMPLAINTDESK_SALES_IMPORT_MAX_BYTES", 20 * 1024 * 1024))


@login_required
@require_http_methods(["GET", "POST"])
def sales(request: HttpRequest) -> HttpResponse:
    check_sales_admin(request.user)
    context: dict[str, Any] = {"errors": {}, "result": None, "max_mb": max_bytes() // (1024 * 1024)}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        dry_run = request.POST.get("dry_run") == "on"
        context["dry_run"] = dry_run
        errors: dict[str, str] = {}
        if upload is None:
            errors["file"] = _("请选择要上传的文件。")
        elif upload.size is not None and upload.size > max_bytes():
            errors["file"] = _("文件过大（最多 %(n)d MB）。") % {"n": context["max_mb"]}
        elif not upload.size:
            errors["file"] = _("文件是空的。")
        if not errors:
            assert upload is not None
            try:
                head = upload.read(4)
                upload.seek(0)
                fmt = sales_import.detect_format(upload.name or "", head)
                result = sales_import.import_file(upload, fmt=fmt, source=upload.name or "", dry_run=dry_run)
            except sales_import.ImportRefused as exc:
                errors["file"] = str(exc)
            else:
                context["result"] = result
                context["shown_errors"] = result.errors[:SHOWN_ERRORS]
                context["more_errors"] = max(len(result.errors) - SHOWN_ERRORS, 0)
        if errors:
            context["errors"] = errors
            status = 400
    context["months"] = sales_import.held_by_month()
    return render(request, "analytics/sales.html", context, status=status)
