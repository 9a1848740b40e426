"""The privacy pages: find a person and read the request log (/staff/privacy/), and one person's page
(what is held, export, correction, erasure). Thin views: parse → check access → the same actions as
the API → render or redirect."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.selectors import mask
from core.errors import ValidationError
from core.fieldcrypt import contact_query
from customers.models import Customer

from . import actions, registry
from .access import check_read_log, customer_for, may_handle, reachable, visible_log
from .audit import record_personal_access
from .choices import RequestStatus
from .models import PrivacyRequest

SEARCH_LIMIT = 50
LOG_LIMIT = 100
CORRECT_FIELDS = ("name", "phone", "email", "address", "id_number")


def find_customers(q: str, user: Any) -> list[Customer]:
    """People by phone (any common form), e-mail, ID number, customer number, or part of the name, among those
    this handler may reach (privacy.access.reachable)."""
    q = q.strip()[:200]
    if not q:
        return []
    query = Q(customer_no=q) | Q(name__icontains=q)
    # Contact details are encrypted: a whole phone number, e-mail address or ID number is matched
    # through its keyed hash (core.fieldcrypt).
    contact = contact_query(q, {"phone": "phone_hash", "email": "email_hash", "id_number": "id_number_hash"})
    if contact is not None:
        query |= contact
    people = reachable(user, Customer.objects.filter(query))
    return list(people.select_related("subject_key").order_by("id")[:SEARCH_LIMIT])


def masked_results(people: list[Customer]) -> list[dict[str, Any]]:
    """The search results masked (complaints.selectors.mask): a result list is not a view of the
    person's data, so it writes no ledger event; opening the person's page does (a `profile` view)."""
    return [
        {
            "pk": p.pk,
            "erased": bool(p.subject_key_id and p.subject_key.shredded_at),
            "name": mask("name", p.name),
            "phone": mask("phone", p.phone),
            "email": mask("email", p.email),
            "customer_no": p.customer_no,
        }
        for p in people
    ]


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    check_read_log(request.user)
    handler = may_handle(request.user)
    q = request.GET.get("q", "").strip()[:200] if handler else ""
    log = visible_log(request.user, PrivacyRequest.objects.select_related("actor")).order_by("-created_at", "-id")
    log = log[:LOG_LIMIT]
    return render(
        request,
        "privacy/index.html",
        {
            "handler": handler,
            "q": q,
            "results": masked_results(find_customers(q, request.user)) if q else None,
            "log": log,
        },
    )


def _customer_page(
    request: HttpRequest, customer: Customer, error: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    document = registry.personal_data(customer)
    cases = list(Complaint.objects.filter(customer=customer).order_by("id"))
    erased = actions.is_erased(customer)
    blocking = [] if erased else actions.blockers_of(cases)
    if cases:
        # What is held is shown in full (also when a form comes back with an error): a view of
        # personal data on each of the person's cases.
        record_personal_access([c.pk for c in cases], actor=Actor.staff(request.user), how="profile")
    apps = {label: _count(section) for label, section in document["apps"].items()}
    return render(
        request,
        "privacy/customer.html",
        {
            "customer": customer,
            "record": document["customer"],
            "cases": cases,
            "counts": {k: len(document[k]) for k in ("contacts", "replies", "evidence")},
            "apps": apps,
            "erased": erased,
            "blocking": [actions.describe_blocker(b) for b in blocking],
            "retention_days": actions.retention_days(),
            "requests": PrivacyRequest.objects.filter(customer=customer).select_related("actor")[:20],
            "error": error or {},
            "correct_fields": _correct_fields(customer, error or {}),
            "has_id_number": hasattr(customer, "id_number"),
        },
        status=status,
    )


def _correct_fields(customer: Customer, error: dict[str, Any]) -> list[dict[str, str]]:
    labels = {
        "name": _("姓名"),
        "phone": _("电话"),
        "email": _("电子邮箱"),
        "address": _("地址"),
        "id_number": _("身份证号"),
    }
    mine = error.get("action") == "correct"
    return [
        {
            "name": field,
            "label": labels[field],
            "value": error.get("values", {}).get(field, "") if mine else "",
            "error": error.get("fields", {}).get(field, "") if mine else "",
        }
        for field in CORRECT_FIELDS
        if field != "id_number" or hasattr(customer, "id_number")
    ]


def _count(section: Any) -> int:
    if isinstance(section, dict):
        return sum(len(v) if isinstance(v, list) else 1 for v in section.values())
    return len(section) if isinstance(section, list) else 1


@login_required
@require_GET
def customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _customer_page(request, customer_for(request.user, customer_id))


@login_required
@require_POST
def export(request: HttpRequest, customer_id: int) -> HttpResponse:
    person = customer_for(request.user, customer_id)
    try:
        result = actions.export(person, actor=Actor.staff(request.user), fmt=request.POST.get("format", ""))
    except ValidationError as exc:
        return _customer_page(request, person, {"action": "export", "fields": _errors(exc)}, status=422)
    response = HttpResponse(result.content, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response


def _errors(exc: ValidationError) -> dict[str, str]:
    return {field: str(message) for field, message in exc.errors.items()}


@login_required
@require_POST
def correct(request: HttpRequest, customer_id: int) -> HttpResponse:
    person = customer_for(request.user, customer_id)
    # A field left empty is not corrected; "clear" ticks a field to be emptied.
    changes: dict[str, str | None] = {}
    for field in CORRECT_FIELDS:
        value = request.POST.get(field, "")
        if value.strip():
            changes[field] = value
        elif request.POST.get(f"clear_{field}"):
            changes[field] = ""
    try:
        actions.correct(person, actor=Actor.staff(request.user), changes=changes, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        values = {f: request.POST.get(f, "") for f in (*CORRECT_FIELDS, "reason")}
        return _customer_page(request, person, {"action": "correct", "fields": _errors(exc), "values": values}, 422)
    messages.success(request, _("已更正，并已记录到相关投诉的台账。"))
    return redirect(reverse("privacy:customer", args=[person.pk]))


@login_required
@require_POST
def erase(request: HttpRequest, customer_id: int) -> HttpResponse:
    person = customer_for(request.user, customer_id)
    reason = request.POST.get("reason", "")
    try:
        done = actions.erase(person, actor=Actor.staff(request.user), reason=reason)
    except ValidationError as exc:
        return _customer_page(
            request, person, {"action": "erase", "fields": _errors(exc), "values": {"reason": reason}}, 422
        )
    if done.status == RequestStatus.REFUSED:
        refused = [actions.describe_blocker(b) for b in done.detail.get("blocking", [])]
        return _customer_page(request, person, {"action": "erase", "refused": refused}, status=409)
    messages.success(request, _("已删除该客户的个人信息。"))
    return redirect(reverse("privacy:customer", args=[person.pk]))
