"""The risk pages: the assessment (matrix, subjects per kind, open alerts, high-risk cases), the
acknowledgement of an alert, and the thresholds page for admins. Thin: parse → check access → call
the selectors or an action → render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import TransitionNotAllowed, ValidationError

from . import access, actions, assess, selectors
from .choices import LOWER_IS_WORSE, SHARES, Measure, SubjectKind
from .models import RiskThreshold


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.check_reader(user)
    scope = access.scope_of(user)
    errors: dict[str, str] = {}
    run = None
    try:
        run = selectors.run_for(selectors.parse_day(request.GET))
    except ValidationError as exc:
        errors = {k: str(v) for k, v in exc.errors.items()}
    rows = selectors.assessments(scope, run) if run is not None else []
    kinds = []
    for kind in SubjectKind:
        of_kind = [r for r in rows if r.kind == kind]
        kinds.append(
            {
                "kind": kind.value,
                "label": kind.label,
                "assessed": [selectors.describe(r) for r in of_kind if r.assessed],
                "not_assessed": [r for r in of_kind if not r.assessed],
            }
        )
    cases = Paginator(selectors.high_risk_cases(user), selectors.CASES_PAGE)
    page = cases.get_page(request.GET.get("page"))
    return render(
        request,
        "risk/index.html",
        {
            "errors": errors,
            "run": run,
            "scope": scope,
            "kinds": kinds,
            "matrix": selectors.matrix(rows) if rows else None,
            "alerts": [selectors.describe_alert(a) for a in selectors.alerts(scope)[:200]],
            "cases": [selectors.describe_case(c) for c in page.object_list],
            "page": page,
            # The case list's page links keep the day shown.
            "day_query": f"day={run.day.isoformat()}&" if run is not None and request.GET.get("day") else "",
            "min_cases": assess.min_cases(),
            "cutoffs": assess.cutoffs(),
            "weights": {"probability": assess.PROBABILITY_WEIGHTS, "impact": assess.IMPACT_WEIGHTS},
            "hourly_cost": assess.hourly_cost(),
            "may_acknowledge": access.may_acknowledge(user),
            "may_edit_thresholds": access.may_edit_thresholds(user),
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    user = request.user
    access.check_reader(user)
    access.check_acknowledger(user)
    alert = selectors.alert_for(access.scope_of(user), alert_id)
    if alert is None:
        raise Http404
    try:
        actions.acknowledge(alert, actor=user, note=request.POST.get("note", ""))
    except ValidationError as exc:
        for field, message in exc.errors.items():
            messages.error(request, f"{field}：{message}")
    except TransitionNotAllowed as exc:
        messages.error(request, exc.reason)
    else:
        messages.success(request, _("已确认预警：%(label)s。") % {"label": alert.assessment.label})
    return redirect(reverse("risk:index") + "#alerts")


def _threshold_rows(values: Any, errors: dict[str, str]) -> list[dict[str, Any]]:
    current = assess.thresholds()
    rows = []
    for measure in Measure:
        edges = current[measure.value]
        fields = []
        for n in range(1, 5):
            name = actions.field_name(measure.value, n)
            fields.append(
                {
                    "name": name,
                    "value": values.get(name, "") if values is not None else f"{edges[n - 1]:g}",
                    "error": errors.get(name, ""),
                }
            )
        rows.append(
            {
                "measure": measure.value,
                "label": measure.label,
                "lower_is_worse": measure in LOWER_IS_WORSE,
                "share": measure in SHARES,
                "fields": fields,
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def thresholds(request: HttpRequest) -> HttpResponse:
    user = request.user
    access.check_threshold_editor(user)
    errors: dict[str, str] = {}
    values = None
    if request.method == "POST":
        values = request.POST
        try:
            actions.save_thresholds(actions.check_thresholds(request.POST), actor=user)
        except ValidationError as exc:
            errors = {k: str(v) for k, v in exc.errors.items()}
        else:
            messages.success(request, _("阈值已保存，下一次评估起生效。"))
            return redirect("risk:thresholds")
    return render(
        request,
        "risk/thresholds.html",
        {
            "rows": _threshold_rows(values, errors),
            "errors": errors,
            "updated": RiskThreshold.objects.select_related("updated_by").order_by("-updated_at").first(),
        },
        status=400 if errors else 200,
    )
