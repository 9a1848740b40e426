"""The case page's remedies panel (add, approve, reject, paid, cancel) and the statutory calculator.
Thin views: parse → check access → the same actions as the API → back to the case page."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from complaints.ledgering import Actor
from complaints.permissions import get_complaint_for_user
from complaints.views import _conflict, _staff, case
from core.errors import DomainError, TransitionNotAllowed, ValidationError, VersionConflict
from core.validation import CONTROL

from . import actions, statutory
from .models import Offer, Remedy

# The panel's buttons: URL verb → (action, the posted field it takes, the action's keyword).
DECISIONS = {
    "approve": ("approve_remedy", "comment", "comment"),
    "reject": ("reject_remedy", "comment", "comment"),
    "paid": ("mark_remedy_paid", "reference", "reference"),
    "cancel": ("cancel_remedy", "reason", "reason"),
}


def _field(request: HttpRequest, name: str) -> str:
    value = request.POST.get(name, "")
    if CONTROL.search(value):
        raise ValidationError(name, _("含有不允许的控制字符。"))
    return value


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


def _run_form(request: HttpRequest, tracking_no: str, run: Any, panel: str = "remedy") -> HttpResponse:
    """Run an action; a refusal re-renders the case page with the reason in the panel."""
    try:
        run()
    except ValidationError as exc:
        return case(request, tracking_no, {"action": panel, "fields": {k: str(v) for k, v in exc.errors.items()}})
    except VersionConflict:
        return case(request, tracking_no, {"action": panel, "message": _conflict()})
    except TransitionNotAllowed as exc:
        return case(request, tracking_no, {"action": panel, "message": exc.reason or str(exc)})
    except (PermissionDenied, DomainError) as exc:
        return case(request, tracking_no, {"action": panel, "message": str(exc)})
    return redirect(reverse("complaints:case", args=[tracking_no]) + "#remedies")


@login_required
@require_POST
def add(request: HttpRequest, tracking_no: str) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)

    def run() -> None:
        actions.add_remedy(
            complaint,
            actor=Actor.staff(user),
            kind=request.POST.get("kind", ""),
            amount=_field(request, "amount"),
            currency=request.POST.get("currency", "CNY"),
            description=_field(request, "description"),
            statutory_basis=_field(request, "statutory_basis"),
            expected_version=_version(request),
        )

    return _run_form(request, tracking_no, run)


@login_required
@require_POST
def decide(request: HttpRequest, tracking_no: str, pk: int, verb: str) -> HttpResponse:
    user = _staff(request)
    if verb not in DECISIONS:
        raise Http404
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    remedy = Remedy.objects.filter(pk=pk, complaint_id=complaint.pk).first()
    if remedy is None:
        raise Http404
    remedy.complaint = complaint
    action, posted, keyword = DECISIONS[verb]

    def run() -> None:
        getattr(actions, action)(
            remedy, actor=Actor.staff(user), expected_version=_version(request), **{keyword: _field(request, posted)}
        )

    return _run_form(request, tracking_no, run)


@login_required
@require_GET
def calculate(request: HttpRequest) -> HttpResponse:
    """The calculator's result: a fragment for HTMX, a small page without it. Writes nothing."""
    _staff(request)
    result, errors = None, {}
    try:
        result = statutory.calculate(request.GET.get("rule", ""), request.GET).as_dict()
    except ValidationError as exc:
        errors = {k: str(v) for k, v in exc.errors.items()}
    context = {"result": result, "errors": errors}
    if request.headers.get("HX-Request") == "true":
        return render(request, "resolutions/_result.html", context, status=200)
    return render(request, "resolutions/calculate.html", context, status=422 if errors else 200)


# --- the negotiation thread (the panel's offers) ----------------------------------------------------


def _back_to_thread(request: HttpRequest, tracking_no: str, run: Any) -> HttpResponse:
    response = _run_form(request, tracking_no, run, panel="offer")
    if response.status_code == 302:
        return redirect(reverse("complaints:case", args=[tracking_no]) + "#negotiation")
    return response


@login_required
@require_POST
def make_offer(request: HttpRequest, tracking_no: str) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)

    def run() -> None:
        reply_to = request.POST.get("reply_to", "")
        actions.make_offer(
            complaint,
            actor=Actor.staff(user),
            text=_field(request, "text"),
            amount=_field(request, "amount"),
            currency=request.POST.get("currency", "CNY"),
            remedies=request.POST.getlist("remedies"),  # type: ignore[arg-type]
            valid_days=_field(request, "valid_days"),
            reply_to=int(reply_to) if reply_to.isdigit() else None,
            expected_version=_version(request),
        )

    return _back_to_thread(request, tracking_no, run)


@login_required
@require_POST
def withdraw_offer(request: HttpRequest, tracking_no: str, pk: int) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    offer = Offer.objects.filter(pk=pk, complaint_id=complaint.pk).first()
    if offer is None:
        raise Http404
    offer.complaint = complaint

    def run() -> None:
        actions.withdraw_offer(
            offer, actor=Actor.staff(user), reason=_field(request, "reason"), expected_version=_version(request)
        )

    return _back_to_thread(request, tracking_no, run)


@login_required
@require_POST
def settle(request: HttpRequest, tracking_no: str) -> HttpResponse:
    """Generate the settlement agreement when it is missing (the after-commit generation failed)."""
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    return _back_to_thread(request, tracking_no, lambda: actions.settle(complaint, actor=Actor.staff(user)))
