"""Staff pages: plans (list, new, detail, edit, complete), recent spike alerts with a button to plan from
them, and the case library (search, entry, add, remove). Thin views over the same actions as the API."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import OrgUnit
from complaints.models import Category
from core.errors import TransitionNotAllowed, ValidationError
from investigation.models import RootCause

from . import access, actions
from .choices import PlanStatus
from .effect import measure
from .models import LibraryEntry
from .selectors import describe_plan, is_overdue, library_search, parse_plan_filters, plan_list

FORM_FIELDS = (
    "title", "root_cause", "action", "owner", "due_date", "due_in_working_days", "expected_effect",
    "expected_reduction", "category", "product_sku", "org_unit", "tracking_numbers", "spike_alert", "similar_to",
)  # fmt: skip


def _form_context(values: Any, errors: dict[str, str], plan: Any = None) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "plan": plan,
        "root_causes": RootCause.objects.filter(active=True),
        "categories": Category.objects.filter(active=True).order_by("parent_id", "order", "pk"),
        "org_units": OrgUnit.objects.all(),
        "statuses": PlanStatus.choices,
    }


def _posted(request: HttpRequest, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: request.POST.get(name, "").strip() for name in names if name in request.POST}


def _plan_for(user: Any, pk: int) -> Any:
    plan = access.plans_visible_to(user).filter(pk=pk).first()
    if plan is None:
        raise Http404
    return plan


@login_required
@require_GET
def plans(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.may_read_plans(user):
        raise PermissionDenied
    errors: dict[str, str] = {}
    try:
        filters = parse_plan_filters(request.GET)
    except ValidationError as exc:
        errors, filters = exc.errors, {}
    rows = [] if errors else [{"plan": p, "overdue": is_overdue(p)} for p in plan_list(user, filters)[:500]]
    return render(
        request,
        "improvement/plans.html",
        {
            "rows": rows,
            "errors": errors,
            "values": request.GET,
            "statuses": PlanStatus.choices,
            "categories": Category.objects.filter(active=True),
            "may_create": access.may_create(user),
        },
        status=400 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.may_create(user):
        raise PermissionDenied
    if request.method == "GET":
        values = {k: request.GET.get(k, "") for k in ("tracking_numbers", "spike_alert", "similar_to")}
        values["due_in_working_days"] = "20"
        return render(request, "improvement/plan_form.html", _form_context(values, {}))
    raw = _posted(request, FORM_FIELDS)
    try:
        plan = actions.create_plan(actions.check_plan(raw, actor=user), actor=user)
    except ValidationError as exc:
        return render(request, "improvement/plan_form.html", _form_context(request.POST, exc.errors), status=400)
    return redirect("improvement:plan", pk=plan.pk)


@login_required
@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan = _plan_for(user, pk)
    return render(
        request,
        "improvement/plan.html",
        {
            "plan": plan,
            "row": describe_plan(plan, user),
            "effect": measure(plan),
            "may_edit": access.may_edit(user, plan) and plan.status not in (PlanStatus.DONE, PlanStatus.CANCELLED),
            "may_complete": access.may_complete(user, plan)
            and plan.status in (PlanStatus.OPEN, PlanStatus.IN_PROGRESS),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan = _plan_for(user, pk)
    if not access.may_edit(user, plan):
        raise PermissionDenied
    if request.method == "GET":
        values = {
            "title": plan.title,
            "root_cause": plan.root_cause.code,
            "action": plan.action,
            "owner": plan.owner.get_username(),
            "due_date": plan.due_date.isoformat(),
            "expected_effect": plan.expected_effect,
            "expected_reduction": plan.expected_reduction,
            "category": plan.category.code if plan.category_id else "",
            "product_sku": plan.product_sku,
            "org_unit": plan.org_unit_id or "",
            "status": plan.status,
        }
        return render(request, "improvement/plan_form.html", _form_context(values, {}, plan))
    raw = _posted(request, tuple(actions.EDITABLE))
    try:
        actions.update_plan(plan, actions.check_plan(raw, actor=user, plan=plan), actor=user)
    except ValidationError as exc:
        return render(request, "improvement/plan_form.html", _form_context(request.POST, exc.errors, plan), status=400)
    except TransitionNotAllowed as exc:
        return render(
            request, "improvement/plan_form.html", _form_context(request.POST, {"status": exc.reason}, plan), status=409
        )
    return redirect("improvement:plan", pk=plan.pk)


@login_required
@require_POST
def plan_complete(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan = _plan_for(user, pk)
    if not access.may_complete(user, plan):
        raise PermissionDenied
    try:
        actions.complete_plan(plan, actor=user, note=request.POST.get("note", "").strip())
    except (ValidationError, TransitionNotAllowed) as exc:
        return render(
            request,
            "improvement/plan.html",
            {"plan": plan, "row": describe_plan(plan, user), "effect": measure(plan), "complete_error": str(exc)},
            status=409,
        )
    return redirect("improvement:plan", pk=plan.pk)


@login_required
@require_GET
def spikes(request: HttpRequest) -> HttpResponse:
    from intelligence.models import SpikeAlert

    if not access.Principal.of(request.user).has(*access.PLAN_READERS):
        raise PermissionDenied
    alerts = SpikeAlert.objects.order_by("-day", "-pk")[:50]
    return render(request, "improvement/spikes.html", {"alerts": alerts, "may_create": access.may_create(request.user)})


@login_required
@require_GET
def library(request: HttpRequest) -> HttpResponse:
    if not access.may_read_library(request.user):
        raise PermissionDenied
    entries, errors = library_search(request.GET)
    return render(
        request,
        "improvement/library.html",
        {
            "entries": entries[:200],
            "errors": errors,
            "values": request.GET,
            "categories": Category.objects.filter(active=True, parent__isnull=True),
            "may_curate": access.may_curate(request.user),
            "add_values": {},
            "add_errors": {},
        },
        status=400 if errors else 200,
    )


def _library_page(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    entries, _errors = library_search({})
    return {
        "entries": entries[:200],
        "errors": {},
        "values": {},
        "categories": Category.objects.filter(active=True, parent__isnull=True),
        "may_curate": True,
        "add_values": request.POST,
        "add_errors": {},
        **extra,
    }


@login_required
@require_POST
def library_add(request: HttpRequest) -> HttpResponse:
    """Two steps: the form posts without `confirm` and gets the anonymised preview; the preview posts
    back with `confirm` and the ticked "已核对无个人信息" box, and only then is the entry saved. The
    anonymiser is a heuristic; the curator is the last check."""
    if not access.may_curate(request.user):
        raise PermissionDenied
    raw = _posted(request, ("tracking_no", "title", "lessons", "tags"))
    try:
        clean = actions.check_library_entry(raw, actor=request.user)
        if not request.POST.get("confirm"):
            preview = actions.library_draft(clean, actor=request.user)
            return render(request, "improvement/library.html", _library_page(request, preview=preview))
        if not request.POST.get("checked_no_personal"):
            preview = actions.library_draft(clean, actor=request.user)
            errors = {"checked_no_personal": _("请先核对预览，确认其中没有个人信息。")}
            return render(
                request, "improvement/library.html", _library_page(request, preview=preview, add_errors=errors),
                status=400,
            )  # fmt: skip
        entry = actions.add_to_library(clean, actor=request.user)
    except ValidationError as exc:
        return render(request, "improvement/library.html", _library_page(request, add_errors=exc.errors), status=400)
    return redirect("improvement:entry", pk=entry.pk)


@login_required
@require_GET
def library_entry(request: HttpRequest, pk: int) -> HttpResponse:
    if not access.may_read_library(request.user):
        raise PermissionDenied
    entry = LibraryEntry.objects.select_related("category").filter(pk=pk).first()
    if entry is None:
        raise Http404
    return render(request, "improvement/entry.html", {"entry": entry, "may_curate": access.may_curate(request.user)})


@login_required
@require_POST
def library_remove(request: HttpRequest, pk: int) -> HttpResponse:
    if not access.may_curate(request.user):
        raise PermissionDenied
    entry = LibraryEntry.objects.filter(pk=pk).first()
    if entry is None:
        raise Http404
    try:
        actions.remove_from_library(entry, actor=request.user, reason=request.POST.get("reason", "").strip())
    except ValidationError as exc:
        return render(
            request,
            "improvement/entry.html",
            {"entry": entry, "may_curate": True, "remove_errors": exc.errors},
            status=400,
        )
    return redirect("improvement:library")
