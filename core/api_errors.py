"""One shape for every API error, in the request's language (zh-Hans / en).

422 {"errors": [{"field": "complainant_email", "code": "email_invalid", "message": "..."}]}
The validation library's messages are replaced by ours, keyed by its error type, so that they are
translated like the rest of the product."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from .errors import RateLimited, TransitionNotAllowed, ValidationError, VersionConflict

logger = logging.getLogger("complaintdesk.api")


def _messages() -> dict[str, str]:
    return {
        "missing": _("此项必填。"),
        "extra_forbidden": _("未知字段。"),
        "string_too_long": _("过长：最多 %(max_length)s 个字符。"),
        "string_too_short": _("过短：至少 %(min_length)s 个字符。"),
        "string_type": _("应为文本。"),
        "string_pattern_mismatch": _("格式不正确。"),
        "int_parsing": _("应为整数。"),
        "int_type": _("应为整数。"),
        "int_from_float": _("应为整数。"),
        "decimal_parsing": _("应为数字。"),
        "decimal_type": _("应为数字。"),
        "float_parsing": _("应为数字。"),
        "decimal_max_digits": _("数字位数过多。"),
        "decimal_max_places": _("小数位数过多：最多 %(decimal_places)s 位。"),
        "decimal_whole_digits": _("数字位数过多。"),
        "greater_than_equal": _("不能小于 %(ge)s。"),
        "greater_than": _("必须大于 %(gt)s。"),
        "less_than_equal": _("不能大于 %(le)s。"),
        "enum": _("取值无效，可选：%(expected)s。"),
        "literal_error": _("取值无效，可选：%(expected)s。"),
        "datetime_parsing": _("应为日期时间（ISO 8601，例如 2026-05-01T10:00:00+08:00）。"),
        "datetime_type": _("应为日期时间（ISO 8601，例如 2026-05-01T10:00:00+08:00）。"),
        "datetime_from_date_parsing": _("应为日期时间（ISO 8601，例如 2026-05-01T10:00:00+08:00）。"),
        "date_parsing": _("应为日期（YYYY-MM-DD）。"),
        "date_type": _("应为日期（YYYY-MM-DD）。"),
        "date_from_datetime_parsing": _("应为日期（YYYY-MM-DD）。"),
        "date_from_datetime_inexact": _("应为日期（YYYY-MM-DD）。"),
        "bool_parsing": _("应为 true 或 false。"),
        "bool_type": _("应为 true 或 false。"),
        "list_type": _("应为列表。"),
        "too_long": _("项目过多：最多 %(max_length)s 项。"),
        "dict_type": _("应为对象。"),
        "model_attributes_type": _("应为对象。"),
        "model_type": _("应为对象。"),
        "json_invalid": _("请求体不是有效的 JSON。"),
        "json_type": _("请求体不是有效的 JSON。"),
        "phone_invalid": _("电话号码无效。"),
        "email_invalid": _("电子邮箱地址无效。"),
        "future": _("不能晚于当前时间。"),
        "date_range": _("年份应在 1900 到 2100 之间。"),
        "control_characters": _("含有不允许的控制字符。"),
        "contact_required": _("请留下电话、电子邮箱或地址，或选择匿名投诉。"),
    }


# Where ninja says a value came from (and our parameter names), never part of the field's name.
_LOCATIONS = ("body", "payload", "query", "header", "path", "filters", "data", "form", "file")


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [
        str(p)
        for p in loc
        if p not in ("body", "payload", "query", "header", "path", "filters", "data", "form", "file")
    ]
    return ".".join(parts) or "__all__"


def translate(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    messages = _messages()
    result = []
    for error in errors:
        code = error.get("type", "value_error")
        template = messages.get(code)
        ctx = dict(error.get("ctx") or {})
        if "expected" in ctx:
            ctx["expected"] = str(ctx["expected"]).replace("'", "")
        if template is None:
            message = _("取值无效。")
        else:
            try:
                message = template % ctx if "%(" in template else template
            except (KeyError, TypeError, ValueError):
                message = template
        result.append({"field": _field(error.get("loc", ())), "code": code, "message": message})
    return result


def install(api: NinjaAPI) -> None:
    from . import api_schema

    api_schema.install(api)  # these answers, documented in the OpenAPI schema

    @api.exception_handler(NinjaValidationError)
    def pydantic_errors(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return api.create_response(request, {"errors": translate(exc.errors)}, status=422)

    @api.exception_handler(ValidationError)
    def domain_errors(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [{"field": f, "code": "invalid", "message": str(m)} for f, m in exc.errors.items()]
        return api.create_response(request, {"errors": errors}, status=422)

    @api.exception_handler(TransitionNotAllowed)
    def transition(request: HttpRequest, exc: TransitionNotAllowed) -> HttpResponse:
        message = exc.reason or _("当前状态“%(state)s”下不能执行“%(action)s”。") % {
            "state": exc.state,
            "action": exc.action,
        }
        body = {
            "error": "transition_not_allowed",
            "message": str(message),
            "state": exc.state,
            "action": exc.action,
            "allowed_actions": exc.allowed,
        }
        return api.create_response(request, body, status=409)

    @api.exception_handler(VersionConflict)
    def conflict(request: HttpRequest, exc: VersionConflict) -> HttpResponse:
        status = 412 if request.headers.get("If-Match") else 409
        body = {
            "error": "version_conflict",
            "current_version": exc.current,
            "message": _("该投诉已被他人修改（当前版本 %(v)d），请刷新后重试。") % {"v": exc.current},
        }
        return api.create_response(request, body, status=status)

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        message = str(exc) if str(exc) and str(exc) != "read-only role" else _("您没有执行此操作的权限。")
        return api.create_response(request, {"error": "forbidden", "message": message}, status=403)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, {"error": "not_found", "message": _("未找到。")}, status=404)

    @api.exception_handler(RateLimited)
    def limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
        response = api.create_response(
            request, {"error": "rate_limited", "message": _("请求过于频繁，请稍后再试。")}, status=429
        )
        response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(
            request, {"error": "unauthenticated", "message": _("请先登录或提供有效的令牌。")}, status=401
        )

    @api.exception_handler(OperationalError)
    @api.exception_handler(InterfaceError)
    def database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
        # The database went away (restart, failover, network): nothing was written (the request's
        # transaction rolled back), so the client may retry. A bug (ProgrammingError, IntegrityError
        # where none is expected) stays a 500.
        logger.warning("database unavailable: %s %s: %s", request.method, request.path, exc)
        response = api.create_response(
            request, {"error": "unavailable", "message": _("服务暂时不可用，请稍后重试。")}, status=503
        )
        response["Retry-After"] = "5"
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and "parse request body" in str(exc):
            errors = [{"field": "__all__", "code": "json_invalid", "message": _messages()["json_invalid"]}]
            return api.create_response(request, {"errors": errors}, status=422)
        return api.create_response(request, {"error": "http_error", "message": str(exc)}, status=exc.status_code)
