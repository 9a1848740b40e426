"""The KPI dashboard page. Thin: parse the filters → check access → build from the rollups → render."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import Department, OrgUnit
from complaints.choices import Channel, Priority
from complaints.models import Category
from core.errors import ValidationError

from . import dashboard
from .access import check_reader
from .filters import Filters
from .rollups import SATISFIED_AT_LEAST


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    check_reader(request.user)
    errors: dict[str, str] = {}
    data = None
    filters = None
    try:
        filters = Filters.from_query(request.GET).scoped(request.user)
    except ValidationError as exc:
        errors = {k: str(v) for k, v in exc.errors.items()}
    if filters is not None:
        data = dashboard.build(filters, request.user)
    return render(
        request,
        "analytics/dashboard.html",
        {
            "errors": errors,
            "other_errors": {
                k: v for k, v in errors.items() if k not in ("from", "to", "category", "org_unit", "channel")
            },
            "values": request.GET,
            "filters": filters,
            "data": data,
            "threshold": SATISFIED_AT_LEAST,
            "categories": Category.objects.filter(active=True)
            .select_related("parent")
            .order_by("parent__order", "order"),
            "units": OrgUnit.objects.all(),
            "channels": Channel.choices,
            "priorities": Priority.choices,
            "departments": Department.objects.all(),
            "case_list": dashboard.case_list_url(filters) if filters is not None else "",
        },
        status=400 if errors else 200,
    )
