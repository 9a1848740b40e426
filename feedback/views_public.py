"""The consumer's survey page: opened by the link's token (no login), in the case's language,
rate-limited, CSRF-protected. A refused link says why (invalid, answered, expired, cancelled) with a
4xx status; a bad answer shows the form again with the message under its field."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from core import ratelimit
from core.errors import RateLimited, ValidationError

from . import actions
from .choices import Solved

# How each refusal is told, and its status.
REFUSALS = {
    "invalid": 400,  # forged or tampered with
    "not_found": 404,
    "answered": 409,  # the link used again
    "expired": 410,
    "cancelled": 410,
}


def refusal_message(reason: str) -> str:
    return {
        "invalid": _("此调查链接无效：链接不完整、被修改或伪造。请使用我们发给您的原始链接。"),
        "not_found": _("找不到此满意度调查。"),
        "answered": _("此满意度调查已经回答过，每个投诉只能回答一次。感谢您的反馈！"),
        "expired": _("此满意度调查链接已过期。"),
        "cancelled": _("此满意度调查已取消或已被新的调查取代（例如投诉已重新处理）。"),
    }.get(reason, _("此调查链接无效。"))


def _language(survey: Any) -> str:
    language = (survey.complaint.language or "").lower()
    return "en" if language.startswith("en") else settings.LANGUAGE_CODE


def _refused(request: HttpRequest, reason: str) -> HttpResponse:
    return render(
        request,
        "feedback/survey_refused.html",
        {"reason": reason, "message": refusal_message(reason)},
        status=REFUSALS.get(reason, 400),
    )


@csrf_protect
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ratelimit.hit("survey", request, settings.COMPLAINTDESK_SURVEY_RATE_PER_MINUTE)
    except RateLimited as exc:
        response = render(
            request,
            "feedback/survey_refused.html",
            {"reason": "rate_limited", "message": _("请求过于频繁，请稍后再试。")},
            status=429,
        )
        response["Retry-After"] = str(exc.retry_after)
        return response
    try:
        opened = actions.open_survey(token)
    except actions.SurveyRefused as exc:
        return _refused(request, exc.reason)
    with translation.override(_language(opened)):
        values: dict[str, str] = {}
        errors: dict[str, str] = {}
        if request.method == "POST":
            values = {k: request.POST.get(k, "") for k in ("outcome", "handling", "solved", "comment")}
            try:
                answer = actions.check_answer(
                    values["outcome"], values["handling"], values["solved"], values["comment"]
                )
                actions.answer_survey(opened, opened.token_round, answer, language=_language(opened))  # type: ignore[attr-defined]
            except ValidationError as exc:
                errors = {k: str(v) for k, v in exc.errors.items()}
            except actions.SurveyRefused as exc:
                return _refused(request, exc.reason)
            else:
                return render(request, "feedback/survey_thanks.html", {"tracking_no": opened.complaint.tracking_no})
        return render(
            request,
            "feedback/survey.html",
            {
                "tracking_no": opened.complaint.tracking_no,
                "scores": range(1, 6),
                "solved_choices": Solved.choices,
                "values": values,
                "errors": errors,
                "expires_at": opened.expires_at,
            },
            status=422 if errors else 200,
        )
