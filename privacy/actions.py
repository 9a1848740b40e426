"""The writes of personal-information requests (PIPL): export, correction, erasure.

Each runs in one transaction: the customer row and then their cases are locked (in id order, so two
requests about the same person never deadlock), each case changed gets one ledger event and a new
version, and the request is logged (PrivacyRequest) in the same transaction. Who may is checked by
the callers (privacy.access); what is valid is checked here, before anything is written."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps as apps_registry
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import search
from complaints.actions import _after_commit, _lock, search_parts
from complaints.choices import OPEN_STATES, Status
from complaints.ledgering import Actor, record, snapshot
from complaints.models import Complaint
from core.errors import ValidationError
from core.validation import CONTROL
from customers.models import Customer
from customers.normalise import normalise_email, normalise_phone
from ledger.crypto import new_subject_key, shred, usable
from ledger.models import SubjectKey

from . import registry
from .audit import record_personal_access
from .choices import RequestKind, RequestStatus
from .models import PrivacyRequest
from .sections import (
    COMPLAINT_BLANKED,
    COMPLAINT_FREE_TEXT,
    erase_case_records,
    erase_inbound_mail,
    inbound_mail_of,
    redact,
    redactor,
)

REASON_MAX = 2000
EXPORT_FORMATS = ("json", "pdf")
# The person's fields that may be corrected, their maximum length, and the complaint field each
# one is copied to (id_number lives on the customer only).
CORRECTABLE: dict[str, tuple[int, str | None]] = {
    "name": (100, "complainant_name"),
    "phone": (20, "complainant_phone"),
    "email": (254, "complainant_email"),
    "address": (300, "complainant_address"),
    "id_number": (18, None),
}
# The resident identity card number (GB 11643): 17 digits and a check character (0-9 or X).
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _reason(value: str | None) -> str:
    text = (value or "").strip()
    if CONTROL.search(text):
        raise ValidationError("reason", _("含有不允许的控制字符。"))
    if len(text) < 2:
        raise ValidationError("reason", _("请写明理由（至少 2 个字）。"))
    if len(text) > REASON_MAX:
        raise ValidationError("reason", _("内容过长（最多 %(n)d 字）。") % {"n": REASON_MAX})
    return text


def is_erased(customer: Customer) -> bool:
    return SubjectKey.objects.filter(pk=customer.subject_key_id, shredded_at__isnull=False).exists()


def _check_not_erased(customer: Customer) -> None:
    if is_erased(customer):
        raise ValidationError("customer", _("该客户的个人信息已删除。"))


def _case_ids(customer: Customer) -> list[int]:
    return list(Complaint.objects.filter(customer=customer).order_by("id").values_list("id", flat=True))


# --- access and export --------------------------------------------------------------------------


@dataclass
class Export:
    content: bytes
    content_type: str
    filename: str
    request: PrivacyRequest


def document(customer: Customer, *, actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    """The person's data as one JSON document: meta, then the sections (privacy.registry)."""
    now = now or timezone.now()
    return {
        "meta": {
            "schema": "complaintdesk.personal-data",
            "version": 1,
            "generated_at": now.isoformat(),
            "generated_by": actor.label,
            "customer_id": customer.pk,
        },
        **registry.personal_data(customer),
    }


def export(customer: Customer, *, actor: Actor, fmt: str) -> Export:
    """A copy of everything held about the person (PIPL art. 45), as JSON or PDF. The export is an
    `export_personal` event on each of their cases and a row in the request log."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationError("format", _("取值无效，可选：json、pdf。"))
    from .export import render_json, render_pdf

    with transaction.atomic():
        data = document(customer, actor=actor)
        content = render_json(data) if fmt == "json" else render_pdf(data)
        ids = _case_ids(customer)
        request = PrivacyRequest.objects.create(
            kind=RequestKind.EXPORT,
            customer=customer,
            actor=actor.user,
            reason=fmt,
            status=RequestStatus.DONE,
            detail={"format": fmt, "cases": [c["tracking_no"] for c in data["complaints"]]},
        )
        record_personal_access(ids, actor=actor, how=f"export_{fmt}", detail={"request": request.pk})
    stamp = timezone.localtime(request.created_at).strftime("%Y%m%d")
    return Export(
        content=content,
        content_type="application/json; charset=utf-8" if fmt == "json" else "application/pdf",
        filename=f"personal-data-{customer.pk}-{stamp}.{fmt}",
        request=request,
    )


# --- correction ---------------------------------------------------------------------------------


def _valid_id_number(text: str) -> bool:
    if not _ID_NUMBER.match(text):
        return False
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == text[17]


def check_correction(customer: Customer, changes: dict[str, str | None]) -> dict[str, str]:
    """The corrected values in their stored form (phone E.164, e-mail lower-cased), only those that
    differ from what is held. A value left out (None) is not corrected; an empty one clears it."""
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    for field, raw in changes.items():
        if raw is None:
            continue
        if field not in CORRECTABLE:
            errors[field] = _("未知字段。")
            continue
        text = raw.strip()
        maximum = CORRECTABLE[field][0]
        if CONTROL.search(text):
            errors[field] = _("含有不允许的控制字符。")
            continue
        if field == "id_number" and not hasattr(customer, "id_number"):
            errors[field] = _("客户档案尚不保存身份证号。")
            continue
        if text and field == "phone":
            normalised = normalise_phone(text)
            if normalised is None:
                errors[field] = _("电话号码无效。")
                continue
            text = normalised
        elif text and field == "email":
            normalised = normalise_email(text)
            if normalised is None:
                errors[field] = _("电子邮箱地址无效。")
                continue
            text = normalised
        elif text and field == "id_number":
            text = text.upper()
            if not _valid_id_number(text):
                errors[field] = _("身份证号无效：应为 18 位，末位为校验码（0-9 或 X）。")
                continue
        if len(text) > maximum:
            errors[field] = _("过长：最多 %(max_length)s 个字符。") % {"max_length": maximum}
            continue
        if text != (getattr(customer, field, "") or ""):
            cleaned[field] = text
    if errors:
        raise ValidationError(errors)
    if not cleaned:
        raise ValidationError("fields", _("没有需要更正的内容：请至少填写一项与现有信息不同的内容。"))
    return cleaned


def correct(customer: Customer, *, actor: Actor, changes: dict[str, str | None], reason: str) -> PrivacyRequest:
    """Correct a person's details (PIPL art. 46) on their customer record and on the complainant
    fields of every one of their cases: one `correct_personal` event per case changed."""
    reason = _reason(reason)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        _check_not_erased(customer)
        cleaned = check_correction(customer, changes)
        for field, value in cleaned.items():
            setattr(customer, field, value)
        customer.save(update_fields=list(cleaned))
        request = PrivacyRequest.objects.create(
            kind=RequestKind.CORRECT,
            customer=customer,
            actor=actor.user,
            reason=reason,
            status=RequestStatus.DONE,
            detail={"fields": sorted(cleaned)},
        )
        changed_cases = []
        for pk in _case_ids(customer):
            locked = _lock(pk)
            if _correct_case(locked, actor=actor, cleaned=cleaned, reason=reason, request=request):
                changed_cases.append(locked.tracking_no)
        request.detail["cases"] = changed_cases
        request.save(update_fields=["detail"])
    return request


def _correct_case(
    locked: Complaint, *, actor: Actor, cleaned: dict[str, str], reason: str, request: PrivacyRequest
) -> bool:
    before = snapshot(locked)
    fields = []
    for field, value in cleaned.items():
        target = CORRECTABLE[field][1]
        if target is not None and getattr(locked, target) != value:
            setattr(locked, target, value)
            fields.append(target)
    if not fields:
        return False
    if not usable(locked.subject_key_id):
        locked.subject_key = new_subject_key()  # as complaints.actions._run: never write with a destroyed key
        fields.append("subject_key")
    locked.version += 1
    locked.save(update_fields=[*fields, "version"])
    record(
        locked,
        action="correct_personal",
        actor=actor,
        before=before,
        data={"request": request.pk, "fields": sorted(f for f in fields if f != "subject_key")},
        private={"note": reason},
    )
    _after_commit(locked, "correct_personal")
    return True


# --- erasure ------------------------------------------------------------------------------------


def retention_days() -> int:
    return int(settings.COMPLAINTDESK_PERSONAL_DATA_RETENTION_DAYS)


def case_end(c: Complaint) -> datetime:
    """When a finished case ended, for the retention period: closing, else archiving, resolution,
    the decision told to the consumer (a rejection), else its receipt (the same order as
    evidence.actions.check_deletable)."""
    return c.closed_at or c.archived_at or c.resolved_at or c.acknowledged_at or c.received_at


def blockers_of(cases: list[Complaint], now: datetime | None = None) -> list[dict[str, Any]]:
    """The cases that keep the person's data (PIPL art. 19, 47): a legal hold, an open case (its
    handling needs the data), a case ended less than the retention period ago. JSON-able."""
    now = now or timezone.now()
    days = retention_days()
    result = []
    for c in cases:
        reasons = []
        until = None
        if c.legal_hold:
            reasons.append("legal_hold")
        if c.status in OPEN_STATES or c.status == Status.RESOLVED:
            reasons.append("open")
        else:
            end = case_end(c) + timedelta(days=days)
            if now < end:
                reasons.append("retention")
                until = end.isoformat()
        if reasons:
            result.append({"tracking_no": c.tracking_no, "status": c.status, "reasons": reasons, "until": until})
    return result


def describe_blocker(blocker: dict[str, Any]) -> str:
    """A blocking case in words (translated when shown, not when stored)."""
    parts = []
    for reason in blocker["reasons"]:
        if reason == "legal_hold":
            parts.append(_("处于法律保全中"))
        elif reason == "open":
            parts.append(_("尚未结案（%(status)s）") % {"status": Status(blocker["status"]).label})
        elif reason == "retention":
            until = timezone.localtime(datetime.fromisoformat(blocker["until"])).date().isoformat()
            parts.append(_("结案后须保存 %(days)d 天，至 %(date)s") % {"days": retention_days(), "date": until})
    return f"{blocker['tracking_no']}：{'；'.join(parts)}"


def erase(customer: Customer, *, actor: Actor, reason: str, now: datetime | None = None) -> PrivacyRequest:
    """Erase a person (PIPL art. 47) where nothing keeps their data. Every other app erases its part
    first, while the complaints and the customer record still show every name and address the
    person used (privacy.registry); then the privacy app's own part: the mail they sent, their
    cases (complainant fields blanked, contact details and their name redacted from the free text,
    one `erase_personal` event each naming the request, no reason and no personal data: the ledger
    is never erased), the customer record last; then their keys are destroyed, so that what the
    ledger holds about them can never be read again (crypto-shredding; the chains still verify).
    The reason stays in the request log only. Refused, and logged as refused with the blocking
    cases, where a legal hold or a retention duty applies."""
    reason = _reason(reason)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        _check_not_erased(customer)
        cases = [_lock(pk) for pk in _case_ids(customer)]
        blocking = blockers_of(cases, now)
        if blocking:
            return PrivacyRequest.objects.create(
                kind=RequestKind.ERASE,
                customer=customer,
                actor=actor.user,
                reason=reason,
                status=RequestStatus.REFUSED,
                detail={"blocking": blocking},
            )
        request = PrivacyRequest.objects.create(
            kind=RequestKind.ERASE, customer=customer, actor=actor.user, reason=reason, status=RequestStatus.DONE
        )
        request.detail = erase_person(customer, cases, actor=actor, facts={"request": request.pk})
        request.save(update_fields=["detail"])
    return request


def erase_person(
    customer: Customer,
    cases: list[Complaint],
    *,
    actor: Actor,
    facts: dict[str, Any],
    skip: frozenset[int] = frozenset(),
    mail_note: str | None = None,
) -> dict[str, Any]:
    """Erase a person whom nothing keeps (the caller holds the customer and `cases`, all of theirs,
    locked, and has checked): every other app's part, their mail, their cases, the customer record
    last, then their keys. `facts` go into each case's `erase_personal` event (the request, or the
    retention run); cases in `skip` (anonymised already) are not erased again, but their keys go
    with the rest. Returns what was done, without personal data (the request log's detail)."""
    # What identifies the person is read before anyone erases anything.
    names = redactor([customer.name, *(c.complainant_name for c in cases)])
    mails = list(inbound_mail_of(customer, cases))
    apps = registry.erase_personal(customer)
    records = {"messages": 0, "contacts": 0, "replies": 0, "evidence": 0}
    records["inbound_mail"] = erase_inbound_mail(mails, names, actor_user=actor.user, note=mail_note)
    for locked in cases:
        if locked.pk in skip:
            continue
        for key, count in _erase_case(locked, actor=actor, names=names, facts=facts).items():
            records[key] += count
    own = apps_registry.get_app_config("privacy")
    own.erase_personal(customer)  # type: ignore[attr-defined]  # the customer record, last
    apps.append(own.label)
    keys = {customer.subject_key_id, *(c.subject_key_id for c in cases)}
    for key in SubjectKey.objects.filter(pk__in=keys, shredded_at__isnull=True):
        shred(key)
    return {"cases": [c.tracking_no for c in cases], "apps": apps, "records": records}


def _erase_case(
    locked: Complaint, *, actor: Actor, names: "re.Pattern[str] | None", facts: dict[str, Any]
) -> dict[str, int]:
    """Anonymise one locked case: the complainant fields blanked, contact details and `names`
    redacted from the free text and the records around it, one `erase_personal` event with `facts`
    (ids only: the request, or the retention run). The key is not destroyed here: it is the
    person's, shared with their other cases (the callers decide)."""
    before = snapshot(locked)
    if not usable(locked.subject_key_id):
        locked.subject_key = new_subject_key()  # its key went earlier; this one goes with the rest
    for field in COMPLAINT_BLANKED:
        setattr(locked, field, "")
    for field in COMPLAINT_FREE_TEXT:
        setattr(locked, field, redact(getattr(locked, field), names))
    if not locked.description:
        locked.description = "***"
    locked.search_text = search.index_text(*search_parts(locked))
    locked.version += 1
    after = snapshot(locked)
    changed = [name for name in after if after[name] != before[name]]
    locked.save(update_fields=[*changed, "version", "search_text"])
    counts = erase_case_records(locked, names)
    # Ids only (the request's, the run's): a request's reason is free text that often names the
    # person, and the ledger can never be erased (it stays in PrivacyRequest, which the handlers and
    # auditors read).
    record(locked, action="erase_personal", actor=actor, before=before, data=dict(facts))
    _after_commit(locked, "erase_personal")
    return counts
