"""Staff pages for inbound mail that could not become a complaint by itself: the list of failed (or
interrupted) mails, one mail with its text and the reason, the raw message for download, and the
agent's way out: register it through the staff registration form, or mark it handled (optionally
linking the case it was registered as, which keeps the raw mail as evidence on that case, or, for a
mail the agent has checked came from the complainant, filing it on the case as their message).

Who: agents and supervisors of the default department, where new complaints arrive."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from complaints import routing
from complaints.choices import Channel, PreferredContact, Priority, RiskFlag, Severity
from complaints.ledgering import Actor
from complaints.permissions import Principal, get_complaint_for_user
from core.errors import DomainError, ValidationError
from core.validation import CONTROL
from evidence import store
from evidence.actions import add_evidence
from evidence.choices import EvidenceKind, Via

from .inbound_mail import MailRefused, envelope_sender, parse, pending, record_reply, surviving
from .models import InboundMail, InboundMailStatus
from .views import _form_context


def _check_desk(request: HttpRequest) -> Principal:
    principal = Principal.of(request.user)
    department = routing.default_department()
    if department is None or not principal.is_writer:
        raise PermissionDenied
    if department.pk not in principal.agent_departments | principal.supervised_departments:
        raise PermissionDenied
    return principal


def _mail_for(request: HttpRequest, pk: int) -> InboundMail:
    """A mail this user may open: one linked to a case needs that case to be visible to them."""
    mail = get_object_or_404(InboundMail.objects.select_related("complaint", "handled_by"), pk=pk)
    if mail.complaint is not None and not Principal.of(request.user).can_see(mail.complaint):
        raise Http404
    return mail


def _parsed(mail: InboundMail) -> dict[str, Any]:
    """What the parser makes of the raw mail now, for the agent to read (never raises)."""
    try:
        with store.open(mail.raw_sha256) as raw:
            parsed = parse(raw.read(), envelope_sender(mail))
    except MailRefused as exc:
        return {"problem": str(exc)}
    except Exception as exc:  # the raw mail is still there to download
        return {"problem": _("无法解析邮件：%(error)s") % {"error": type(exc).__name__}}
    return {
        "from_name": parsed.from_name,
        "text": parsed.text,
        "attachments": [(a.filename, len(a.content)) for a in parsed.attachments],
        "tracking_numbers": parsed.tracking_numbers,
    }


@login_required
@require_GET
def mail_list(request: HttpRequest) -> HttpResponse:
    _check_desk(request)
    show = request.GET.get("show", "pending")
    if show == "handled":
        mails = InboundMail.objects.filter(status=InboundMailStatus.HANDLED, complaint__isnull=True)
    else:
        show = "pending"
        mails = pending()
    return render(
        request,
        "intake/mail_list.html",
        {"mails": mails.select_related("handled_by").order_by("-received_at")[:200], "show": show},
    )


@login_required
@require_GET
def mail_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _check_desk(request)
    mail = _mail_for(request, pk)
    return render(
        request,
        "intake/mail_detail.html",
        {"mail": mail, "parsed": _parsed(mail), "open": pending().filter(pk=mail.pk).exists()},
    )


@login_required
@require_GET
def mail_raw(request: HttpRequest, pk: int) -> FileResponse:
    """The message exactly as received, as a download (never rendered in the browser)."""
    _check_desk(request)
    mail = _mail_for(request, pk)
    try:
        raw = store.open(mail.raw_sha256)
    except OSError as exc:  # erased with its sender (privacy) when it was no case's evidence
        raise Http404 from exc
    response = FileResponse(raw, as_attachment=True, filename=f"mail-{mail.pk}.eml", content_type="message/rfc822")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def mail_handle(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a pending mail handled, with a note; a tracking number links the case it was registered
    as (or added to), and the raw mail becomes evidence there. With `as_reply`, the agent confirms the
    mail is the complainant's: it goes on the case as their message, into the contact log, with its
    attachments, as a proven reply would (inbound_mail.record_reply), by the agent."""
    _check_desk(request)
    mail = _mail_for(request, pk)
    if not pending().filter(pk=mail.pk).exists():
        messages.error(request, _("这封来信已处理。"))
        return redirect("intake:mail_detail", pk=mail.pk)
    note = request.POST.get("note", "").strip()[:500]
    tracking_no = request.POST.get("tracking_no", "").strip().upper()
    as_reply = request.POST.get("as_reply") == "on"
    if CONTROL.search(note):
        messages.error(request, _("含有不允许的控制字符。"))
        return redirect("intake:mail_detail", pk=mail.pk)
    if as_reply and not tracking_no:
        messages.error(request, _("投诉编号：作为投诉人来信归入时必须填写。"))
        return redirect("intake:mail_detail", pk=mail.pk)
    complaint = None
    try:
        with transaction.atomic():
            if tracking_no:
                try:
                    complaint = get_complaint_for_user(request.user, tracking_no, write=True)
                except (Http404, PermissionDenied) as exc:
                    message = _("找不到您可处理的投诉：%(no)s") % {"no": tracking_no}
                    raise ValidationError("tracking_no", message) from exc
            updated = InboundMail.objects.filter(pk=mail.pk, status=mail.status).update(
                status=InboundMailStatus.HANDLED,
                complaint=complaint,
                handled_by=request.user,
                handled_at=timezone.now(),
                handled_note=note,
            )
            if not updated:
                raise ValidationError("status", _("这封来信已处理。"))
            if complaint is not None:
                with store.open(mail.raw_sha256) as blob:
                    raw = blob.read()
                if as_reply:
                    kept = surviving(complaint)
                    if kept.pk != complaint.pk:  # merged: the case it went into, if the agent may write there
                        try:
                            complaint = get_complaint_for_user(request.user, kept.tracking_no, write=True)
                        except (Http404, PermissionDenied) as exc:
                            message = _("找不到您可处理的投诉：%(no)s") % {"no": kept.tracking_no}
                            raise ValidationError("tracking_no", message) from exc
                    record_reply(mail, raw, parse(raw, envelope_sender(mail)), complaint, Actor.staff(request.user))
                else:
                    add_evidence(
                        complaint,
                        content=raw,
                        filename=f"mail-{mail.pk}.eml",
                        kind=EvidenceKind.COMMUNICATION,
                        actor=Actor.staff(request.user),
                        via=Via.MAIL,
                        description=_("原始邮件：%(subject)s") % {"subject": mail.subject[:200]},
                        raw_message=True,
                    )
    except ValidationError as exc:
        messages.error(request, "；".join(str(m) for m in exc.errors.values()))
        return redirect("intake:mail_detail", pk=mail.pk)
    except (DomainError, MailRefused) as exc:
        messages.error(request, str(exc))
        return redirect("intake:mail_detail", pk=mail.pk)
    if as_reply:
        messages.success(request, _("已作为投诉人来信归入投诉 %(no)s。") % {"no": complaint.tracking_no})
        return redirect("intake:mail_list")
    messages.success(request, _("已标记为已处理。"))
    return redirect("intake:mail_list")


@login_required
@require_GET
def mail_register(request: HttpRequest, pk: int) -> HttpResponse:
    """The staff registration form, filled in from the mail (channel e-mail, sender, subject, text)
    for the agent to complete; it posts to the ordinary registration."""
    _check_desk(request)
    mail = _mail_for(request, pk)
    parsed = _parsed(mail)
    values = {
        "channel": Channel.EMAIL,
        "consent": "on",
        "complainant_email": mail.from_address,
        "complainant_name": parsed.get("from_name", "")[:100],
        "preferred_contact": PreferredContact.EMAIL,
        "title": mail.subject[:200],
        "description": parsed.get("text", "")[:10_000],
    }
    context = {
        **_form_context(request, values, {}),
        "staff": True,
        "channels": Channel.choices,
        "priorities": Priority.choices,
        "severities": Severity.choices,
        "risk_flags": RiskFlag.choices,
        "from_mail": mail,
    }
    return render(request, "intake/file.html", context)
