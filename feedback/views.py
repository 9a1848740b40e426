"""Staff pages: the satisfaction figures, the call-back list, and one call-back (the complainant's
contact, a recorded view) with its outcome form. Thin views: parse → check access → the same actions
and selectors as the API → render."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.choices import WRITER_ROLES, Role
from accounts.models import Department
from complaints.ledgering import Actor
from complaints.models import Category
from complaints.permissions import Principal
from complaints.selectors import mask
from core.errors import DomainError, TransitionNotAllowed, ValidationError

from . import actions
from .inputs import parse_filters
from .selectors import ANALYTICS_ROLES, SATISFIED_AT_LEAST, Filters, callback_list, callbacks_visible_to, satisfaction

CALLBACK_ROLES = WRITER_ROLES | {Role.AUDITOR}


def _analytics_user(request: HttpRequest) -> Any:
    if not Principal.of(request.user).has(*ANALYTICS_ROLES):
        raise PermissionDenied
    return request.user


def _callback_user(request: HttpRequest) -> Any:
    if not Principal.of(request.user).roles & CALLBACK_ROLES:
        raise PermissionDenied
    return request.user


@login_required
@require_GET
def satisfaction_page(request: HttpRequest) -> HttpResponse:
    user = _analytics_user(request)
    errors: dict[str, str] = {}
    try:
        filters = parse_filters(request.GET)
    except ValidationError as exc:
        errors = {k: str(v) for k, v in exc.errors.items()}
        filters = Filters()
    figures = satisfaction(user, filters) if not errors else None
    return render(
        request,
        "feedback/satisfaction.html",
        {
            "f": figures,
            "errors": errors,
            "values": request.GET,
            "threshold": SATISFIED_AT_LEAST,
            "categories": Category.objects.filter(parent__isnull=True, active=True),
            "departments": Department.objects.all(),
        },
        status=400 if errors else 200,
    )


@login_required
@require_GET
def callbacks(request: HttpRequest) -> HttpResponse:
    user = _callback_user(request)
    mine = (
        request.GET.get("mine", "1" if not Principal.of(user).has(Role.SUPERVISOR, Role.MANAGER, Role.AUDITOR) else "")
        == "1"
    )
    status = request.GET.get("status", "open")
    if status not in ("open", "done", "cancelled", ""):
        status = "open"
    rows = list(callback_list(user, mine=mine, status=status)[:500])
    principal = Principal.of(user)
    from .selectors import may_record_callback

    return render(
        request,
        "feedback/callbacks.html",
        {
            # The name masked and no phone: the list is no view of personal data; the call-back's
            # own page shows the contact (and records the view).
            "rows": [
                {
                    "cb": cb,
                    "name": mask("complainant_name", cb.complaint.complainant_name),
                    "may_record": may_record_callback(user, cb, cb.complaint),
                }
                for cb in rows
            ],
            "mine": mine,
            "status": status,
            "overdue": sum(1 for cb in rows if cb.overdue),
            "read_only": not principal.is_writer,
        },
    )


@login_required
@require_GET
def callback_page(request: HttpRequest, pk: int, err: dict[str, Any] | None = None) -> HttpResponse:
    """One call-back with the complainant's name and phone (to make the call) and its outcome form.
    The list shows neither; showing them here is a view of personal data, recorded on the case."""
    from .selectors import may_record_callback

    user = _callback_user(request)
    callback = callbacks_visible_to(user).filter(pk=pk).first()
    if callback is None:
        raise Http404
    masked = Principal.of(user).masked_for(callback.complaint)
    if not masked:
        from privacy.audit import record_personal_access

        record_personal_access([callback.complaint_id], actor=Actor.staff(user), how="case_page")
    return render(
        request,
        "feedback/callback.html",
        {
            "cb": callback,
            "masked": masked,
            "may_record": may_record_callback(user, callback, callback.complaint),
            "err": err,
        },
        status=422 if err else 200,
    )


def _bool(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@login_required
@require_POST
def record_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    user = _callback_user(request)
    callback = callbacks_visible_to(user).filter(pk=pk).first()
    if callback is None:
        raise Http404
    try:
        outcome = actions.check_outcome(
            _bool(request.POST.get("reached")),
            _bool(request.POST.get("satisfied")),
            request.POST.get("note", ""),
            request.POST.get("new_issue", ""),
        )
        actions.record_callback(callback, actor=Actor.staff(user), outcome=outcome)
    except ValidationError as exc:
        return callback_page(
            _as_get(request), pk, {"fields": {k: str(v) for k, v in exc.errors.items()}, "values": request.POST}
        )
    except (TransitionNotAllowed, DomainError) as exc:
        return callback_page(
            _as_get(request), pk, {"message": getattr(exc, "reason", "") or str(exc), "values": request.POST}
        )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("feedback:callbacks")
    return redirect(target)


def _as_get(request: HttpRequest) -> HttpRequest:
    request.method = "GET"
    return request
