"""POST /api/v1/reports/exports: the case-list export of the export page, as a file; 422 names the
field of a bad filter."""

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Router

from accounts.choices import CASE_ROLES
from complaints.api import StaffSession, TokenAuth
from complaints.permissions import Principal
from core.errors import ValidationError

from . import exports
from .inputs import parse_export

router = Router(tags=["reports"], auth=[TokenAuth(), StaffSession()])


@router.post(
    "/reports/exports",
    summary="Export the filtered cases you may see (CSV, Excel, Parquet, CFPB)",
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
def export_cases(request: HttpRequest) -> Any:
    user = request.auth  # type: ignore[attr-defined]
    if not Principal.of(user).roles & CASE_ROLES:
        raise PermissionDenied(_("您没有任何投诉处理角色。"))
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise ValidationError("body", _("请求体应为 JSON 对象。")) from exc
    if not isinstance(body, dict):
        raise ValidationError("body", _("请求体应为 JSON 对象。"))
    export = parse_export(body, may_include_personal=exports.may_include_personal(user))
    return exports.response(user, export, translation.get_language())
