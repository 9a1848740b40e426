"""The public pages: the complaint form, the receipt, and the consumer's status page.

They call the same actions as the API and validate through the same IntakeData + check_intake, so a
form and a JSON body are refused for the same reasons, in the same words."""

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods
from pydantic import ValidationError as PydanticValidationError

from accounts.choices import OrgUnitKind
from accounts.models import OrgUnit
from complaints import actions
from complaints.choices import Channel, PreferredContact, Priority, Remedy, RiskFlag, Severity
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Category, Complaint
from complaints.permissions import Principal
from complaints.selectors import consumer_view
from complaints.tracking import check_access_code, hash_access_code, new_access_code
from complaints.transitions import CONSUMER_ACTIONS, CONSUMER_EVIDENCE_STATES
from core import ratelimit
from core.api_errors import translate
from core.errors import DomainError, RateLimited, TransitionNotAllowed, ValidationError
from core.models import Region
from core.validation import CONTROL, TRACKING_NO
from evidence.actions import add_evidence, check_evidence
from evidence.choices import EvidenceKind, Via
from evidence.selectors import items_for_consumer
from resolutions.choices import CURRENCIES
from resolutions.selectors import negotiation_for_consumer, with_datetimes

from . import idempotency
from .access import CASE_WINDOW_MINUTES, FAILURES_PER_CASE, find_own_case
from .mail import send_receipt_after_commit, send_recovery_code
from .models import RecoveryCode

# Form fields that go into IntakeData as they are (text); the rest are handled one by one.
_TEXT_FIELDS = [
    "complainant_name", "complainant_phone", "complainant_email", "complainant_address", "preferred_contact",
    "product_name", "product_sku", "product_model", "product_batch", "order_no", "staff_involved",
    "title", "description", "province_code", "city_code", "district_code", "postal_code", "category",
]  # fmt: skip
_OPTIONAL_VALUES = ["purchase_date", "occurred_at", "amount_paid", "amount_claimed", "org_unit"]


def _intake_payload(post: Any) -> dict[str, Any]:
    data: dict[str, Any] = {name: post.get(name, "") for name in _TEXT_FIELDS}
    for name in _OPTIONAL_VALUES:
        value = post.get(name, "").strip()
        if value:
            data[name] = value
    data["anonymous"] = post.get("anonymous") == "on"
    data["remedies_requested"] = post.getlist("remedies_requested")
    data["language"] = "en" if getattr(post, "_language", "") == "en" else "zh-hans"
    return data


def _form_context(request: HttpRequest, values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    provinces = Region.objects.filter(level=1).order_by("code")
    cities = Region.objects.filter(parent_id=values.get("province_code")) if values.get("province_code") else []
    districts = Region.objects.filter(parent_id=values.get("city_code")) if values.get("city_code") else []
    return {
        "values": values,
        "errors": errors,
        "provinces": provinces,
        "cities": cities,
        "districts": districts,
        "stores": OrgUnit.objects.filter(kind__in=[OrgUnitKind.STORE, OrgUnitKind.BRANCH]).order_by("path"),
        "categories": Category.objects.filter(parent__isnull=True, active=True),
        "remedies": Remedy.choices,
        "contacts": PreferredContact.choices,
        "form_token": values.get("form_token") or uuid.uuid4().hex,
        **_attachment_limits(),
        "chosen_remedies": values.get("remedies_requested", []),
    }


def _attachment_limits() -> dict[str, Any]:
    return {
        "attachments_max": settings.COMPLAINTDESK_ATTACHMENTS_MAX,
        "attachment_mb": settings.COMPLAINTDESK_EVIDENCE_MAX_BYTES // (1024 * 1024),
    }


def check_attachments(request: HttpRequest, errors: dict[str, str]) -> list[Any]:
    """The uploaded files, each checked (type from the content, size, count) before anything is
    saved; a refusal names the file and why. Browsers cannot keep chosen files across a re-display,
    so the message asks for them again."""
    files = request.FILES.getlist("attachments")
    if len(files) > settings.COMPLAINTDESK_ATTACHMENTS_MAX:
        errors["attachments"] = _("附件过多：最多 %(n)d 个。") % {"n": settings.COMPLAINTDESK_ATTACHMENTS_MAX}
        return []
    problems = []
    for upload in files:
        try:
            check_evidence(upload, upload.name or "", EvidenceKind.COMPLAINT_MATERIAL)
        except ValidationError as exc:
            problems.append(str(exc.errors.get("file", exc)))
    if problems:
        errors["attachments"] = " ".join(problems) + " " + _("请重新选择要上传的附件。")
        return []
    return files


def attach(complaint: Complaint, files: list[Any], actor: Actor, via: str) -> None:
    for upload in files:
        add_evidence(
            complaint,
            content=upload,
            filename=upload.name or "file",
            kind=EvidenceKind.COMPLAINT_MATERIAL,
            actor=actor,
            via=via,
        )


def _receipt(request: HttpRequest, receipt: dict[str, Any]) -> HttpResponse:
    return render(request, "intake/receipt.html", {"receipt": receipt}, status=201)


@sensitive_post_parameters()
@sensitive_variables("access_code")
@require_http_methods(["GET", "POST"])
def file_complaint(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "intake/file.html", _form_context(request, {}, {}))
    post = request.POST
    values: dict[str, Any] = {**post.dict(), "remedies_requested": post.getlist("remedies_requested")}
    if post.get("website"):  # the honeypot: people never see this field, bots fill it in
        return render(request, "intake/file.html", _form_context(request, {}, {}), status=400)
    errors: dict[str, str] = {}
    if post.get("consent") != "on":
        errors["consent"] = _("请阅读并同意个人信息处理说明。")
    try:
        ratelimit.hit("intake", request, settings.COMPLAINTDESK_INTAKE_RATE_PER_MINUTE)
    except RateLimited:
        errors["__all__"] = _("请求过于频繁，请稍后再试。")
        return render(request, "intake/file.html", _form_context(request, values, errors), status=429)
    data = validate_form(request, errors, staff=False)
    files = check_attachments(request, errors)
    if errors:
        return render(request, "intake/file.html", _form_context(request, values, errors), status=422)
    assert data is not None
    # A double submission (a second click, a reload) answers with the first receipt.
    token = str(post.get("form_token", ""))[:64]
    key = f"form:{token}" if token and not CONTROL.search(token) else ""
    if key:
        digest = hashlib.sha256(data.model_dump_json().encode()).hexdigest()
        earlier = idempotency.claim(key, digest)
        if earlier is not None and earlier.status_code == 201:
            original = idempotency.unseal(key, earlier.response)
            if original is not None:
                return _receipt(request, original)
        if earlier is not None:
            errors["__all__"] = _("同一请求正在处理中，请稍后重试。")
            return render(request, "intake/file.html", _form_context(request, values, errors), status=409)

    def save(complaint: Complaint, access_code: str) -> None:
        # In the case's own transaction: the complaint exists exactly with its attachments.
        attach(complaint, files, Actor.consumer(), Via.WEB)
        if key:
            idempotency.complete(key, 201, _receipt_data(complaint, access_code))

    try:
        complaint, access_code = actions.submit(data, actor=Actor.consumer(), also=save)
    except Exception:
        if key:
            idempotency.release(key)
        raise
    send_receipt_after_commit(complaint, access_code)
    return _receipt(request, _receipt_data(complaint, access_code))


def validate_form(request: HttpRequest, errors: dict[str, str], *, staff: bool) -> IntakeData | None:
    """The posted form through IntakeData and check_intake, as the API validates a JSON body;
    messages go into `errors` by field. Staff registration adds channel, priority and the like."""
    post = request.POST
    payload = _intake_payload(post)
    payload["language"] = "en" if request.LANGUAGE_CODE == "en" else "zh-hans"
    if staff:
        for name in ("channel", "priority", "severity"):
            if post.get(name):
                payload[name] = post.get(name)
        payload["risk_flags"] = post.getlist("risk_flags")
        if post.get("regulator_due_at", "").strip():
            payload["regulator_due_at"] = post["regulator_due_at"].strip()
    try:
        data = IntakeData.model_validate(payload)
    except PydanticValidationError as exc:
        errors.update({e["field"]: e["message"] for e in reversed(translate(exc.errors()))})
        return None
    if not errors:
        try:
            check_intake(data, staff=staff)
        except ValidationError as exc:
            errors.update({field: str(message) for field, message in exc.errors.items()})
    return data


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """An agent registers a complaint received by phone, letter, walk-in or referral."""
    if not Principal.of(request.user).is_writer:
        raise PermissionDenied
    staff_context = {
        "staff": True,
        "channels": Channel.choices,
        "priorities": Priority.choices,
        "severities": Severity.choices,
        "risk_flags": RiskFlag.choices,
    }
    if request.method == "GET":
        context = _form_context(request, {"channel": Channel.PHONE, "consent": "on"}, {})
        return render(request, "intake/file.html", {**context, **staff_context})
    values: dict[str, Any] = {
        **request.POST.dict(),
        "remedies_requested": request.POST.getlist("remedies_requested"),
        "risk_flags": request.POST.getlist("risk_flags"),
    }
    errors: dict[str, str] = {}
    data = validate_form(request, errors, staff=True)
    files = check_attachments(request, errors)
    if errors or data is None:
        context = _form_context(request, values, errors)
        return render(request, "intake/file.html", {**context, **staff_context}, status=422)
    actor = Actor.staff(request.user)
    complaint, access_code = actions.submit(
        data, actor=actor, also=lambda complaint, _code: attach(complaint, files, actor, Via.STAFF)
    )
    return render(
        request, "intake/receipt.html", {"receipt": _receipt_data(complaint, access_code), "staff": True}, status=201
    )


def _receipt_data(complaint: Complaint, access_code: str) -> dict[str, Any]:
    return {
        "tracking_no": complaint.tracking_no,
        "access_code": access_code,
        "received_at": complaint.received_at.isoformat(),
        "ack_due_at": complaint.ack_due_at.isoformat(),
    }


@require_GET
def region_options(request: HttpRequest) -> HttpResponse:
    """<option>s of the divisions under a province or city (the picker's next level)."""
    parent = request.GET.get("province_code") or request.GET.get("city_code") or ""
    regions = Region.objects.filter(parent_id=parent).order_by("code") if parent.isdigit() else []
    return render(request, "intake/region_options.html", {"regions": regions})


# --- the status page --------------------------------------------------------------------------


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _status_context(complaint: Complaint, access_code: str) -> dict[str, Any]:
    view = consumer_view(complaint)
    for key in ("received_at", "ack_due_at", "acknowledged_at", "resolution_due_at"):
        view[key] = _when(view[key])
    for entry in view["timeline"]:
        entry["at"] = _when(entry["at"])
    if view["proposal"]:
        view["proposal"]["proposed_at"] = _when(view["proposal"]["proposed_at"])
    negotiation = negotiation_for_consumer(complaint)
    with_datetimes(negotiation["offers"])
    return {
        "case": view,
        "negotiation": negotiation,
        "currencies": CURRENCIES,
        "tracking_no": complaint.tracking_no,
        "access_code": access_code,
        "evidence": list(items_for_consumer(complaint)),
        "may_add_evidence": complaint.status in CONSUMER_EVIDENCE_STATES,
        **_attachment_limits(),
    }


@sensitive_post_parameters("access_code")
@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    """Tracking number + access code are posted in a form, never put in the URL."""
    if request.method == "GET":
        return render(request, "intake/status_lookup.html", {})
    tracking_no = request.POST.get("tracking_no", "")
    access_code = request.POST.get("access_code", "")
    try:
        complaint = find_own_case(request, tracking_no, access_code)
    except RateLimited:
        return render(
            request,
            "intake/status_lookup.html",
            {"error": _("请求过于频繁，请稍后再试。"), "tracking_no": tracking_no},
            status=429,
        )
    if complaint is None:
        return render(
            request,
            "intake/status_lookup.html",
            {"error": _("投诉编号或查询码不正确。"), "tracking_no": tracking_no},
            status=404,
        )
    return render(request, "intake/status.html", _status_context(complaint, access_code))


@sensitive_post_parameters("access_code")
@require_http_methods(["POST"])
def status_action(request: HttpRequest) -> HttpResponse:
    """The consumer's own actions from the status page: the same actions the API calls."""
    post = request.POST
    tracking_no, access_code, action = post.get("tracking_no", ""), post.get("access_code", ""), post.get("action", "")
    try:
        complaint = find_own_case(request, tracking_no, access_code)
    except RateLimited:
        return render(request, "intake/status_lookup.html", {"error": _("请求过于频繁，请稍后再试。")}, status=429)
    if complaint is None or action not in CONSUMER_ACTIONS:
        return render(request, "intake/status_lookup.html", {"error": _("投诉编号或查询码不正确。")}, status=404)
    text = post.get("text", "")
    kwargs: dict[str, Any] = {}
    run = getattr(actions, action, None)
    if action in {"refuse_proposal", "withdraw", "appeal", "reopen"}:
        kwargs["reason"] = text
    elif action == "add_information":
        kwargs["text"] = text
    if action in {"accept_proposal", "refuse_proposal", "counter_offer"}:
        offer_id = post.get("offer_id", "")
        kwargs["offer_id"] = int(offer_id) if offer_id.isdigit() else None
    if action == "accept_proposal":
        kwargs["via"] = "web"
    elif action == "counter_offer":
        from resolutions.actions import counter_offer

        run = counter_offer
        kwargs.update(text=text, amount=post.get("amount", ""), currency=post.get("currency", "CNY"))
    error = ""
    if CONTROL.search(text) or CONTROL.search(post.get("amount", "")):
        error = _("含有不允许的控制字符。")
    else:
        try:
            result = run(complaint, actor=Actor.consumer(), **kwargs)
            complaint = result if isinstance(result, Complaint) else complaint
        except ValidationError as exc:
            error = "; ".join(f"{_FIELD_NAMES.get(f, f)}：{m}" for f, m in exc.errors.items())
        except TransitionNotAllowed as exc:
            error = exc.reason or _("当前状态下不能执行此操作。")
        except DomainError as exc:
            error = str(exc)
    complaint = Complaint.objects.select_related("owner", "org_unit").get(pk=complaint.pk)
    context = _status_context(complaint, access_code)
    context.update(
        {
            "action_error": error,
            "failed_action": action if error else "",
            "typed": text if error else "",
            "typed_amount": post.get("amount", "") if error else "",
        }
    )
    return render(request, "intake/status.html", context, status=422 if error else 200)


# The names of the status page's fields, for refusals that name the field.
_FIELD_NAMES = {
    "text": _lazy("内容"),
    "reason": _lazy("理由"),
    "amount": _lazy("金额"),
    "currency": _lazy("币种"),
    "offer": _lazy("处理方案"),
}


@sensitive_post_parameters("access_code")
@require_http_methods(["POST"])
def status_agreement(request: HttpRequest) -> HttpResponse:
    """The consumer downloads the settlement agreement (posted with the code, never in the URL); the
    download is recorded in the case's ledger."""
    from evidence.actions import record_access
    from evidence.http import file_response
    from resolutions.selectors import consumer_agreement_item

    post = request.POST
    try:
        complaint = find_own_case(request, post.get("tracking_no", ""), post.get("access_code", ""))
    except RateLimited:
        return render(request, "intake/status_lookup.html", {"error": _("请求过于频繁，请稍后再试。")}, status=429)
    item = consumer_agreement_item(complaint) if complaint is not None else None
    if item is None:
        return render(request, "intake/status_lookup.html", {"error": _("投诉编号或查询码不正确。")}, status=404)
    record_access(item, actor=Actor.consumer(), how="download")
    return file_response(item, download=True)


@sensitive_post_parameters("access_code")
@require_http_methods(["POST"])
def status_evidence(request: HttpRequest) -> HttpResponse:
    """The consumer adds evidence from the status page (with the complaint, or when asked for more)."""
    post = request.POST
    tracking_no, access_code = post.get("tracking_no", ""), post.get("access_code", "")
    try:
        complaint = find_own_case(request, tracking_no, access_code)
    except RateLimited:
        return render(request, "intake/status_lookup.html", {"error": _("请求过于频繁，请稍后再试。")}, status=429)
    if complaint is None:
        return render(request, "intake/status_lookup.html", {"error": _("投诉编号或查询码不正确。")}, status=404)
    errors: dict[str, str] = {}
    files = check_attachments(request, errors)
    if not files and not errors:
        errors["attachments"] = _("请选择要上传的文件。")
    if not errors:
        try:
            attach(complaint, files, Actor.consumer(), Via.WEB)
        except ValidationError as exc:
            errors["attachments"] = "; ".join(str(m) for m in exc.errors.values())
        except (TransitionNotAllowed, PermissionDenied):
            errors["attachments"] = _("当前状态下不能补充证据。")
    complaint = Complaint.objects.select_related("owner").get(pk=complaint.pk)
    context = _status_context(complaint, access_code)
    context["evidence_error"] = errors.get("attachments", "")
    return render(request, "intake/status.html", context, status=422 if errors else 200)


# --- a lost access code -----------------------------------------------------------------------

RECOVERY_MINUTES = 15
RECOVERY_ATTEMPTS = 5


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def recover(request: HttpRequest) -> HttpResponse:
    """Step 1: the tracking number → a one-time code to the complaint's e-mail (the same answer
    whether or not the number exists or has an e-mail). Step 2: number + code → a new access code."""
    if request.method == "GET":
        return render(request, "intake/recover.html", {"step": "request"})
    tracking_no = request.POST.get("tracking_no", "").strip().upper()
    try:
        ratelimit.hit("recover", request, 10)
    except RateLimited:
        return render(
            request, "intake/recover.html", {"step": "request", "error": _("请求过于频繁，请稍后再试。")}, status=429
        )
    valid = bool(TRACKING_NO.fullmatch(tracking_no))
    complaint = Complaint.objects.filter(tracking_no=tracking_no).first() if valid else None
    if request.POST.get("step") != "verify":
        if complaint is not None and complaint.complainant_email:
            # As strong as the access code it replaces (60 bits): guessing it is hopeless, whatever
            # the number of addresses (issue 9; docs/security.md, "Guessing access codes").
            code = new_access_code()
            RecoveryCode.objects.create(
                complaint=complaint,
                code_hash=hash_access_code(code),
                expires_at=timezone.now() + timedelta(minutes=RECOVERY_MINUTES),
            )
            send_recovery_code(complaint, code)
        return render(request, "intake/recover.html", {"step": "verify", "tracking_no": tracking_no})
    code = request.POST.get("code", "").strip()
    # Wrong recovery codes are counted per tracking number too (all addresses together, unknown
    # numbers alike): past the limit even the right code waits for the window to end.
    case_key = f"recovery-failure:{tracking_no}" if valid else ""
    limited = settings.COMPLAINTDESK_RATELIMIT
    if limited and case_key and ratelimit.failures(case_key, CASE_WINDOW_MINUTES) >= FAILURES_PER_CASE:
        return render(
            request,
            "intake/recover.html",
            {"step": "verify", "tracking_no": tracking_no, "error": _("请求过于频繁，请稍后再试。")},
            status=429,
        )
    pending = None
    if complaint is not None:
        pending = (
            RecoveryCode.objects.filter(complaint=complaint, used_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-created_at")
            .first()
        )
    if pending is None or pending.attempts >= RECOVERY_ATTEMPTS or not check_access_code(code, pending.code_hash):
        if pending is not None:
            RecoveryCode.objects.filter(pk=pending.pk).update(attempts=pending.attempts + 1)
        if limited and case_key:
            ratelimit.count_failure(case_key, CASE_WINDOW_MINUTES)
        return render(
            request,
            "intake/recover.html",
            {"step": "verify", "tracking_no": tracking_no, "error": _("验证码不正确或已过期。")},
            status=422,
        )
    RecoveryCode.objects.filter(pk=pending.pk).update(used_at=timezone.now())
    assert complaint is not None
    complaint, access_code = actions.reissue_access_code(complaint, actor=Actor.consumer())
    return render(request, "intake/receipt.html", {"receipt": _receipt_data(complaint, access_code), "reissued": True})
