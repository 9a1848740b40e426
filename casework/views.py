"""The case page's casework panel: log a contact, send the written reply, fill a textarea from a
reply template (HTMX). Thin views: parse → check access → the same actions as the API → back to the
case page; a refusal re-renders the case page with the reason next to the form."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from complaints.actions import check_may
from complaints.ledgering import Actor
from complaints.permissions import get_complaint_for_user
from complaints.views import _conflict, _staff, case
from core.errors import DomainError, TransitionNotAllowed, ValidationError, VersionConflict
from evidence.choices import Via

from . import actions, forms
from .choices import Purpose
from .selectors import render_template

# What each form keeps when it comes back with an error (the agent's text is never lost).
_KEPT = {
    "add_contact": (
        "direction",
        "party",
        "third_party_kind",
        "third_party_name",
        "channel",
        "occurred_at",
        "duration",
        "summary",
    ),
    "send_reply": ("text", "template"),
}


def _run_form(request: HttpRequest, tracking_no: str, action: str, run: Callable[[], Any], anchor: str) -> HttpResponse:
    kept = {name: request.POST.get(name, "") for name in _KEPT[action]}
    try:
        run()
    except ValidationError as exc:
        fields = {k: str(v) for k, v in exc.errors.items()}
        return case(request, tracking_no, {"action": action, "fields": fields, "values": kept})
    except VersionConflict:
        return case(request, tracking_no, {"action": action, "message": _conflict(), "values": kept})
    except TransitionNotAllowed as exc:
        return case(request, tracking_no, {"action": action, "message": exc.reason or str(exc), "values": kept})
    except (PermissionDenied, DomainError) as exc:
        return case(request, tracking_no, {"action": action, "message": str(exc), "values": kept})
    return redirect(reverse("complaints:case", args=[tracking_no]) + anchor)


@login_required
@require_POST
def add_contact(request: HttpRequest, tracking_no: str) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)

    def run() -> None:
        actor = Actor.staff(user)
        check_may(complaint, actor, "add_contact")
        upload = request.FILES.get("file")
        actions.add_contact(
            complaint,
            actor=actor,
            file=upload,
            filename=upload.name if upload is not None else "",
            via=Via.STAFF,
            expected_version=forms.version(request.POST),
            **forms.contact_kwargs(request.POST),
        )

    return _run_form(request, tracking_no, "add_contact", run, "#contacts")


@login_required
@require_POST
def send_reply(request: HttpRequest, tracking_no: str) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)

    def run() -> None:
        actor = Actor.staff(user)
        check_may(complaint, actor, "send_reply")  # before anything about templates is said
        actions.send_reply(
            complaint,
            actor=actor,
            text=forms._field(request.POST, "text"),
            template=forms.template_from(request.POST.get("template"), Purpose.REPLY),
            expected_version=forms.version(request.POST),
        )

    return _run_form(request, tracking_no, "send_reply", run, "#reply")


# The textarea a template fills, per purpose: (the action that uses it, element id, field name).
TARGETS = {
    Purpose.REPLY.value: ("send_reply", "reply-text", "text"),
    Purpose.CONTACT.value: ("add_contact", "contact-summary", "summary"),
}


@login_required
@require_GET
def fill_template(request: HttpRequest, tracking_no: str, purpose: str) -> HttpResponse:
    """The template rendered for the case, as the textarea it replaces (HTMX, hx-swap outerHTML); a
    small page without HTMX. Writes nothing; refused where the action it serves is refused."""
    if purpose not in TARGETS:
        raise Http404
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    action, element_id, name = TARGETS[purpose]
    try:
        check_may(complaint, Actor.staff(user), action)
    except TransitionNotAllowed as exc:
        return HttpResponse(exc.reason or str(exc), status=409, content_type="text/plain; charset=utf-8")
    try:
        template = forms.template_from(request.GET.get("template"), purpose)
    except ValidationError:
        raise Http404 from None
    text = render_template(template, complaint) if template is not None else ""
    context = {"text": text, "element_id": element_id, "name": name, "complaint": complaint}
    if request.headers.get("HX-Request") == "true":
        return render(request, "casework/_textarea.html", context)
    return render(request, "casework/template.html", context)
