"""The scorecard pages: one's own, a person's, a department's, and the period ranking. Thin: parse the
period → check access (analytics.scorecards) → build → render."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from accounts.models import Department, User
from core.errors import ValidationError

from . import scorecards
from .access import check_reader
from .filters import Filters
from .rollups import SATISFIED_AT_LEAST


def _errors(exc: ValidationError) -> dict[str, str]:
    return {name: str(message) for name, message in exc.errors.items()}


def _page(
    request: HttpRequest,
    *,
    title: str,
    build: Callable[[Filters], scorecards.Scorecard],
    check: Callable[[Filters], None],
) -> HttpResponse:
    try:
        filters = scorecards.parse_period(request.GET)
    except ValidationError as exc:
        check(Filters.from_query({}))  # access first: a bad period must not tell an outsider anything
        return _render(request, "analytics/scorecard.html", {"title": title, "errors": _errors(exc)}, status=400)
    check(filters)
    card = build(filters)
    context = {"title": title, "card": card, "filters": filters, "chart": [card.chart()], "errors": {}}
    return _render(request, "analytics/scorecard.html", context)


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context.setdefault("values", request.GET)
    context.setdefault("threshold", SATISFIED_AT_LEAST)
    context.setdefault("min_cases", scorecards.min_cases())
    context.setdefault("can_rank", scorecards.may_rank_people(request.user))
    return render(request, template, context, status=status)


@login_required
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    scorecards.check_staff(request.user)
    user = request.user
    assert isinstance(user, User)
    return _page(
        request,
        title=scorecards.person_name(user),
        build=lambda filters: scorecards.person_scorecard(filters, user),
        check=lambda _filters: scorecards.check_staff(user),
    )


@login_required
@require_GET
def person(request: HttpRequest, user_id: int) -> HttpResponse:
    if request.user.pk != user_id:
        scorecards.check_person_reader(request.user, Filters.from_query({}))
    subject = get_object_or_404(User, pk=user_id)
    return _page(
        request,
        title=scorecards.person_name(subject),
        build=lambda filters: scorecards.person_scorecard(filters, subject),
        check=lambda filters: scorecards.check_person(request.user, subject, filters),
    )


@login_required
@require_GET
def department(request: HttpRequest, code: str) -> HttpResponse:
    check_reader(request.user)
    subject = get_object_or_404(Department, code=code)
    return _page(
        request,
        title=scorecards.department_name(subject),
        build=lambda filters: scorecards.department_scorecard(filters, subject),
        check=lambda _filters: scorecards.check_department(request.user, subject),
    )


@login_required
@require_GET
def ranking(request: HttpRequest) -> HttpResponse:
    check_reader(request.user)
    try:
        filters, kpi = scorecards.parse_ranking(request.GET)
    except ValidationError as exc:
        context = {"errors": _errors(exc), "kpis": scorecards.KPIS, "by": request.GET.get("by", "")}
        return _render(request, "analytics/scorecard_ranking.html", context, status=400)
    board = scorecards.ranking(filters, request.user, kpi)
    context = {
        "board": board,
        "filters": filters,
        "kpis": scorecards.KPIS,
        "by": kpi.key,
        "charts": board.charts(),
        "errors": {},
    }
    return _render(request, "analytics/scorecard_ranking.html", context)
