"""The feedback API: the consumer's survey by its token (public, rate-limited), the satisfaction
figures, and call-backs with their outcomes. Same actions and selectors as the pages."""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from complaints.api import StaffSession, TokenAuth, _user
from complaints.ledgering import Actor
from complaints.permissions import Principal
from core import ratelimit
from core.api_schema import documented
from core.http import json_response
from core.validation import CleanText

from . import actions
from .choices import Solved
from .inputs import parse_filters
from .selectors import ANALYTICS_ROLES, callback_list, callbacks_visible_to, describe_callback, satisfaction
from .views_public import REFUSALS, refusal_message

router = Router(tags=["feedback"], auth=[TokenAuth(), StaffSession()])


# --- the consumer's survey (no login; the token is the key) -----------------------------------------


def _refused(reason: str) -> HttpResponse:
    return json_response(
        {"error": f"survey_{reason}", "message": refusal_message(reason)}, status=REFUSALS.get(reason, 400)
    )


def _questions() -> list[dict[str, Any]]:
    return [
        {
            "name": "outcome",
            "text": _("您对处理结果的满意程度（1 = 很不满意，5 = 很满意）"),
            "type": "score",
            "min": 1,
            "max": 5,
            "required": True,
        },
        {
            "name": "handling",
            "text": _("您对处理过程（态度、速度、沟通）的满意程度（1 = 很不满意，5 = 很满意）"),
            "type": "score",
            "min": 1,
            "max": 5,
            "required": True,
        },
        {
            "name": "solved",
            "text": _("您的问题解决了吗？"),
            "type": "choice",
            "choices": [{"value": v, "label": str(label)} for v, label in Solved.choices],
            "required": True,
        },
        {
            "name": "comment",
            "text": _("意见或建议（选填）"),
            "type": "text",
            "max_length": actions.COMMENT_MAX,
            "required": False,
        },
    ]


@router.get(
    "/public/surveys/{token}",
    auth=None,
    summary="The satisfaction survey a link opens (its questions)",
    openapi_extra=documented(400, 410),
)
def get_survey(request: HttpRequest, token: str) -> HttpResponse:
    ratelimit.hit("survey", request, settings.COMPLAINTDESK_SURVEY_RATE_PER_MINUTE)
    try:
        survey = actions.open_survey(token)
    except actions.SurveyRefused as exc:
        return _refused(exc.reason)
    return json_response(
        {
            "tracking_no": survey.complaint.tracking_no,
            "status": survey.status,
            "expires_at": survey.expires_at.isoformat() if survey.expires_at else None,
            "questions": _questions(),
        }
    )


class AnswerIn(Schema):
    model_config = ConfigDict(extra="forbid")
    outcome: int = Field(ge=1, le=5)
    handling: int = Field(ge=1, le=5)
    solved: Solved
    comment: CleanText = Field("", max_length=actions.COMMENT_MAX)


@router.post(
    "/public/surveys/{token}",
    auth=None,
    summary="Answer the satisfaction survey (once per case)",
    openapi_extra=documented(400, 410, created="The answer", ok=False),
)
def post_survey(request: HttpRequest, token: str, payload: AnswerIn) -> HttpResponse:
    ratelimit.hit("survey", request, settings.COMPLAINTDESK_SURVEY_RATE_PER_MINUTE)
    try:
        survey = actions.open_survey(token)
    except actions.SurveyRefused as exc:
        return _refused(exc.reason)
    answer = actions.check_answer(payload.outcome, payload.handling, payload.solved, payload.comment)
    try:
        row = actions.answer_survey(survey, survey.token_round, answer)  # type: ignore[attr-defined]
    except actions.SurveyRefused as exc:
        return _refused(exc.reason)
    return json_response(
        {
            "tracking_no": survey.complaint.tracking_no,
            "answered_at": row.answered_at.isoformat(),
            "outcome": row.outcome,
            "handling": row.handling,
            "solved": row.solved,
        },
        status=201,
    )


# --- staff: satisfaction figures ----------------------------------------------------------------


@router.get("/feedback/satisfaction", summary="满意率, mean scores, solved distribution and response rate")
def get_satisfaction(request: HttpRequest) -> dict[str, Any]:
    user = _user(request)
    if not Principal.of(user).has(*ANALYTICS_ROLES):
        raise PermissionDenied(_("只有经理、主管、分析和监督角色可以查看满意度分析。"))
    return satisfaction(user, parse_filters(request.GET))


# --- staff: call-backs ------------------------------------------------------------------------


class CallbackQuery(Schema):
    model_config = ConfigDict(extra="forbid")
    mine: bool = False
    status: str = Field("open", pattern=r"^(open|done|cancelled|all)$")


@router.get("/feedback/callbacks", summary="Call-backs: mine (?mine=1) or all I may see; overdue first")
def list_callbacks(request: HttpRequest, params: Query[CallbackQuery]) -> list[dict[str, Any]]:
    user = _user(request)
    principal = Principal.of(user)
    rows = callback_list(user, mine=params.mine, status="" if params.status == "all" else params.status)[:500]
    return [describe_callback(cb, masked=principal.masked_for(cb.complaint)) for cb in rows]


def _with_contact(user: Any, callback: Any) -> dict[str, Any]:
    """One call-back with the complainant's name and phone; an unmasked view is a ledger event."""
    masked = Principal.of(user).masked_for(callback.complaint)
    if not masked:
        from privacy.audit import record_personal_access

        record_personal_access([callback.complaint_id], actor=Actor.staff(user), how="case_api")
    return describe_callback(callback, masked=masked, contact=True)


@router.get(
    "/feedback/callbacks/{callback_id}", summary="One call-back with the complainant's contact (a recorded view)"
)
def get_callback(request: HttpRequest, callback_id: int) -> HttpResponse:
    user = _user(request)
    callback = callbacks_visible_to(user).filter(pk=callback_id).first()
    if callback is None:
        raise Http404
    return json_response(_with_contact(user, callback))


class OutcomeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reached: bool
    satisfied: bool | None = None
    note: CleanText = Field("", max_length=actions.NOTE_MAX)
    new_issue: CleanText = Field("", max_length=actions.NOTE_MAX)


@router.post("/feedback/callbacks/{callback_id}/outcome", summary="Record the outcome of a call-back")
def record_outcome(request: HttpRequest, callback_id: int, payload: OutcomeIn) -> HttpResponse:
    user = _user(request)
    callback = callbacks_visible_to(user).filter(pk=callback_id).first()
    if callback is None:
        raise Http404
    outcome = actions.check_outcome(payload.reached, payload.satisfied, payload.note, payload.new_issue)
    updated = actions.record_callback(callback, actor=Actor.staff(user), outcome=outcome)
    updated = callbacks_visible_to(user).get(pk=updated.pk)
    return json_response(_with_contact(user, updated), status=200)
