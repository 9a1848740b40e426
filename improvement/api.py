"""The improvement API: plans (list, create, read, change, complete) and the case library (read).
Same checks, actions and selectors as the pages."""

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from complaints.api import StaffSession, TokenAuth, _user
from core.api_schema import documented
from core.http import json_response
from core.validation import CleanText

from . import access, actions
from .selectors import describe_plan, library_search, parse_plan_filters, plan_list

router = Router(tags=["improvement"], auth=[TokenAuth(), StaffSession()])


class PlanIn(Schema):
    model_config = ConfigDict(extra="forbid")
    title: CleanText = Field(max_length=200)
    root_cause: CleanText = Field(max_length=40)
    action: CleanText = Field(max_length=actions.TEXT_MAX)
    owner: CleanText = Field(max_length=150)
    due_date: date | None = None
    due_in_working_days: int | None = None
    expected_effect: CleanText = Field("", max_length=actions.TEXT_MAX)
    expected_reduction: int = Field(0, ge=0, le=100)
    category: CleanText = Field("", max_length=60)
    product_sku: CleanText = Field("", max_length=64)
    org_unit: int | None = None
    tracking_numbers: list[CleanText] = Field(default_factory=list, max_length=actions.MAX_LINKED)
    spike_alert: int | None = None
    similar_to: CleanText = Field("", max_length=24)


class PlanPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    title: CleanText | None = Field(None, max_length=200)
    root_cause: CleanText | None = Field(None, max_length=40)
    action: CleanText | None = Field(None, max_length=actions.TEXT_MAX)
    owner: CleanText | None = Field(None, max_length=150)
    due_date: date | None = None
    due_in_working_days: int | None = None
    expected_effect: CleanText | None = Field(None, max_length=actions.TEXT_MAX)
    expected_reduction: int | None = Field(None, ge=0, le=100)
    category: CleanText | None = Field(None, max_length=60)
    product_sku: CleanText | None = Field(None, max_length=64)
    org_unit: int | None = None
    status: CleanText | None = Field(None, max_length=12)


class CompleteIn(Schema):
    model_config = ConfigDict(extra="forbid")
    note: CleanText = Field("", max_length=actions.TEXT_MAX)


def _plan_for(user: Any, plan_id: int) -> Any:
    plan = access.plans_visible_to(user).filter(pk=plan_id).first()
    if plan is None:
        raise Http404
    return plan


@router.get(
    "/improvement/plans", summary="Improvement plans I may see, overdue first (?status=&overdue=&owner=me&category=)"
)
def list_plans(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.may_read_plans(user):
        raise PermissionDenied(_("只有经理、主管、分析、监督角色和计划负责人可以查看改进计划。"))
    rows = plan_list(user, parse_plan_filters(request.GET))[:500]
    return json_response([describe_plan(p, user, detail=False) for p in rows])


@router.post(
    "/improvement/plans",
    summary="Create a plan from tracking numbers, a spike alert or a case's similar cases",
    openapi_extra=documented(created="The plan", ok=False),
)
def create_plan(request: HttpRequest, payload: PlanIn) -> HttpResponse:
    user = _user(request)
    if not access.may_create(user):
        raise PermissionDenied(_("只有经理、主管和分析角色可以创建改进计划。"))
    raw = {k: v for k, v in payload.model_dump().items() if v not in (None, "", [])}
    clean = actions.check_plan(raw, actor=user)
    plan = actions.create_plan(clean, actor=user)
    return json_response(describe_plan(_plan_for(user, plan.pk), user), status=201)


@router.get("/improvement/plans/{plan_id}", summary="One plan with its linked cases, history and measured effect")
def get_plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _user(request)
    return json_response(describe_plan(_plan_for(user, plan_id), user))


@router.patch("/improvement/plans/{plan_id}", summary="Change a plan (its owner, a manager, or its creator)")
def patch_plan(request: HttpRequest, plan_id: int, payload: PlanPatch) -> HttpResponse:
    user = _user(request)
    plan = _plan_for(user, plan_id)
    if not access.may_edit(user, plan):
        raise PermissionDenied(_("只有计划负责人、经理或创建人可以修改计划。"))
    clean = actions.check_plan(payload.model_dump(exclude_unset=True), actor=user, plan=plan)
    actions.update_plan(plan, clean, actor=user)
    return json_response(describe_plan(_plan_for(user, plan_id), user))


@router.post("/improvement/plans/{plan_id}/complete", summary="Mark the plan done; the effect is measured from now")
def complete_plan(request: HttpRequest, plan_id: int, payload: CompleteIn) -> HttpResponse:
    user = _user(request)
    plan = _plan_for(user, plan_id)
    if not access.may_complete(user, plan):
        raise PermissionDenied(_("只有计划负责人、经理或创建计划的主管可以完成计划。"))
    actions.complete_plan(plan, actor=user, note=payload.note.strip())
    return json_response(describe_plan(_plan_for(user, plan_id), user))


@router.get("/improvement/library", summary="The case library (anonymised): ?q= text, ?category= code")
def list_library(request: HttpRequest) -> HttpResponse:
    _user(request)
    entries, errors = library_search(request.GET)
    if errors:
        from core.errors import ValidationError

        raise ValidationError(errors)
    return json_response(
        [
            {
                "id": e.pk,
                "title": e.title,
                "category": e.category.code if e.category_id else None,
                "summary": e.summary,
                "handling": e.handling,
                "outcome": e.outcome,
                "remedies": e.remedies,
                "lessons": e.lessons,
                "tags": e.tags,
                "received_month": e.received_month,
            }
            for e in entries[:200]
        ]
    )
