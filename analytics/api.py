"""The analytics API: the KPIs and one breakdown, from the rollups; the same selectors as the page."""

import re
from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from complaints.api import StaffSession, TokenAuth
from core.errors import ValidationError

from . import scorecards
from .access import check_reader, scorecard_scope
from .filters import Filters
from .selectors import DIMENSIONS, breakdown, kpis

router = Router(tags=["analytics"], auth=[TokenAuth(), StaffSession()])
MAX_LIMIT = 100
SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def _filters(request: HttpRequest, *, skip: tuple[str, ...] = ()) -> Filters:
    check_reader(request.auth)  # type: ignore[attr-defined]
    params = request.GET.copy()
    for name in skip:
        params.pop(name, None)
    return Filters.from_query(params).scoped(request.auth)  # type: ignore[attr-defined]


def _period(filters: Filters) -> dict[str, str]:
    return {"from": filters.date_from.isoformat(), "to": filters.date_to.isoformat()}


def _empty() -> dict[str, Any]:
    """An empty period is an answer, not an error: the figures are zero, and the message says why."""
    return {"empty": True, "message": _("该期间没有投诉。")}


def _plain(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if k == "compensation_paid" else v) for k, v in figures.items()}


@router.get("/analytics/kpis", summary="KPIs of the complaints received in a period (DESIGN.md §8 definitions)")
def get_kpis(request: HttpRequest) -> dict[str, Any]:
    filters = _filters(request)
    figures = kpis(filters)
    empty = _empty() if not figures["received"] else {"empty": False}
    return {"period": _period(filters), "kpis": _plain(figures), **empty}


@router.get("/analytics/breakdown", summary="The KPIs per value of one dimension")
def get_breakdown(request: HttpRequest) -> dict[str, Any]:
    filters = _filters(request, skip=("dimension", "limit"))
    dimension = (request.GET.get("dimension") or "").strip()
    errors: dict[str, str] = {}
    if dimension not in DIMENSIONS:
        errors["dimension"] = _("未知的维度。可用：%(names)s。") % {"names": "、".join(DIMENSIONS)}
    raw_limit = (request.GET.get("limit") or "20").strip()
    limit = int(raw_limit) if raw_limit.isdigit() else 0
    if not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = _("应为 1 到 %(max)d 之间的整数。") % {"max": MAX_LIMIT}
    if errors:
        raise ValidationError(errors)
    if dimension == "owner":
        filters = scorecard_scope(filters, request.auth)  # type: ignore[attr-defined]
    rows = breakdown(filters, dimension, limit=limit)
    empty = _empty() if not any(r["received"] for r in rows) else {"empty": False}
    return {"period": _period(filters), "dimension": dimension, "rows": [_plain(r) for r in rows], **empty}


# --- scorecards (issue 8 item 3; analytics.scorecards: the same access and figures as the pages) ---


@router.get("/analytics/scorecards/me", summary="The caller's own scorecard, beside the previous period")
def get_my_scorecard(request: HttpRequest) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    scorecards.check_staff(user)
    filters = scorecards.parse_period(request.GET)
    return scorecards.person_scorecard(filters, user).as_dict()


@router.get("/analytics/scorecards/people/{user_id}", summary="A person's scorecard (for their supervisors)")
def get_person_scorecard(request: HttpRequest, user_id: int) -> dict[str, Any]:
    from django.shortcuts import get_object_or_404

    from accounts.models import User

    reader = request.auth  # type: ignore[attr-defined]
    if reader.pk != user_id:
        scorecards.check_person_reader(reader, Filters.from_query({}))
    filters = scorecards.parse_period(request.GET)
    person = get_object_or_404(User, pk=user_id)
    scorecards.check_person(reader, person, filters)
    return scorecards.person_scorecard(filters, person).as_dict()


@router.get("/analytics/scorecards/departments/{code}", summary="A department's scorecard")
def get_department_scorecard(request: HttpRequest, code: str) -> dict[str, Any]:
    from django.shortcuts import get_object_or_404

    from accounts.models import Department

    reader = request.auth  # type: ignore[attr-defined]
    check_reader(reader)
    filters = scorecards.parse_period(request.GET)
    # Codes are slugs: anything else names no department (and a NUL byte would reach PostgreSQL).
    if not SLUG.fullmatch(code):
        raise Http404
    department = get_object_or_404(Department, code=code)
    scorecards.check_department(reader, department)
    return scorecards.department_scorecard(filters, department).as_dict()


@router.get("/analytics/scorecards/ranking", summary="The period ranking of the people and departments in scope")
def get_scorecard_ranking(request: HttpRequest) -> dict[str, Any]:
    reader = request.auth  # type: ignore[attr-defined]
    check_reader(reader)
    filters, kpi = scorecards.parse_ranking(request.GET)
    return scorecards.ranking(filters, reader, kpi).as_dict()
