"""Customer writes: matching a complaint's contact details to a profile, and care actions (关怀).

A care action tied to a complaint is an event on that case's ledger chain (care_create, care_done,
care_cancel): the case row is locked, its version moves, the note is encrypted with the
complainant's key. complaints.* is imported inside the functions: complaints.actions imports this
module for match_or_create_customer."""

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ValidationError
from core.fieldcrypt import lookup_hashes
from core.validation import CONTROL
from ledger.crypto import new_subject_key

from .choices import CareKind, CareStatus
from .models import CareAction, Customer
from .normalise import normalise_id_number

NOTE_MAX = 2000


def match_or_create_customer(
    *, name: str, phone: str, email: str, address: str = "", customer_no: str = ""
) -> Customer:
    """The customer with this customer number, or else with this phone or e-mail (the lowest id),
    or a new one. Inputs are already normalised (customers.normalise). Blank fields of a matched
    profile are filled in; filled ones are never overwritten (a correction is the privacy app's)."""
    customer = None
    # An erased person (key destroyed) is never matched again: a new contact starts a new profile.
    alive = Customer.objects.filter(subject_key__shredded_at__isnull=True)
    if customer_no:
        customer = alive.filter(customer_no=customer_no).order_by("id").first()
    if customer is None and (phone or email):
        # Through the keyed hashes: the columns themselves hold ciphertext (core.fieldcrypt).
        query = Q()
        if phone:
            query |= Q(phone_hash__in=lookup_hashes("phone", phone))
        if email:
            query |= Q(email_hash__in=lookup_hashes("email", email))
        customer = alive.filter(query).order_by("id").first()
        if customer is not None and customer_no and customer.customer_no and customer.customer_no != customer_no:
            # Another customer number: another account of the shop, even with a shared phone.
            customer = None
    if customer is None:
        return Customer.objects.create(
            name=name,
            phone=phone,
            email=email,
            address=address,
            customer_no=customer_no,
            subject_key=new_subject_key(),
        )
    changed = []
    for field, value in (
        ("name", name),
        ("phone", phone),
        ("email", email),
        ("address", address),
        ("customer_no", customer_no),
    ):
        if value and not getattr(customer, field):
            setattr(customer, field, value)
            changed.append(field)
    if changed:
        customer.save(update_fields=changed)
    return customer


def check_id_number(raw: str) -> str:
    text = (raw or "").strip()
    if not text:
        return ""
    number = normalise_id_number(text)
    if number is None:
        raise ValidationError("id_number", _("身份证号无效：应为 18 位，出生日期有效，末位校验码正确（数字或 X）。"))
    return number


def set_id_number(customer: Customer, raw: str) -> Customer:
    customer.id_number = check_id_number(raw)
    customer.save(update_fields=["id_number"])
    return customer


# --- care actions -------------------------------------------------------------------------------


def _text(value: str | None, field: str, maximum: int = NOTE_MAX, minimum: int = 0) -> str:
    text = (value or "").strip()
    if CONTROL.search(text):
        raise ValidationError(field, _("含有不允许的控制字符。"))
    if len(text) < minimum:
        raise ValidationError(field, _("必填，至少 %(n)d 个字。") % {"n": minimum})
    if len(text) > maximum:
        raise ValidationError(field, _("内容过长（最多 %(n)d 字）。") % {"n": maximum})
    return text


# An archived case is read-only for everyone; a merged one lives on in the case it joined.
READ_ONLY_CASE_STATES = ("archived", "merged")


def _lock_case(complaint_id: int) -> Any:
    """The case row, locked. Every write that touches a case and a care action locks the case
    first, as the case's own actions do, so that two writers never wait on each other in opposite
    order (a deadlock on PostgreSQL)."""
    from complaints.actions import _lock

    return _lock(complaint_id)


def _record_on_case(locked: Any, action: str, actor: Any, data: dict[str, Any], note: str = "") -> None:
    """One event on the case's chain for a care action (inside the caller's transaction, on the case
    row the caller has locked)."""
    from complaints.ledgering import record, snapshot
    from ledger.crypto import usable

    before = snapshot(locked)
    fields = ["version"]
    if not usable(locked.subject_key_id):
        locked.subject_key = new_subject_key()
        fields.append("subject_key")
    locked.version += 1
    locked.save(update_fields=fields)
    record(locked, action=action, actor=actor, before=before, data=data, private={"note": note})


def _describe(care: CareAction) -> dict[str, Any]:
    return {
        "care_action": care.pk,
        "kind": care.kind,
        "assignee": care.assignee.get_username() if care.assignee_id else None,
        "due_at": care.due_at.isoformat(),
        "status": care.status,
        "automatic": care.automatic,
    }


def assignee_problem(assignee: Any, customer: Customer, complaint: Any = None) -> str:
    """Why this user cannot be given a care action for the customer ("" when they can): they must
    be able to open the profile as a writer (customers.access.profile_access) and, for a care action
    tied to a case, see that case (Complaint.objects.visible_to) — else they would be asked to call
    about, and could write to the ledger of, a case they may not see."""
    from .access import may_see_complaint, profile_access

    name = assignee.get_username()[:40]
    if not assignee.is_active or not assignee.memberships.exists():
        return _("负责人应为有角色的在职员工。")
    access = profile_access(assignee, customer)
    if not (access.allowed and access.writer):
        return _("%(name)s 不能作为负责人：须能以办案角色（坐席、主管、经理、法务/公关）通过投诉查看此客户档案。") % {
            "name": name
        }
    if complaint is not None and not may_see_complaint(assignee, complaint.pk):
        return _("%(name)s 不能作为负责人：看不到所关联的投诉 %(tracking_no)s。") % {
            "name": name,
            "tracking_no": complaint.tracking_no,
        }
    return ""


def check_care(
    *, kind: str, assignee: Any, due_at: datetime | None, note: str, complaint: Any, customer: Customer
) -> str:
    errors: dict[str, str] = {}
    if kind not in CareKind.values:
        offered = "、".join(f"{code}（{label}）" for code, label in CareKind.choices)
        errors["kind"] = _("取值无效，可选：%(values)s。") % {"values": offered}
    if due_at is None:
        errors["due_at"] = _("请填写完成期限。")
    elif due_at < timezone.now() - timedelta(days=1):
        errors["due_at"] = _("完成期限不能早于今天。")
    if complaint is not None and complaint.customer_id != customer.pk:
        errors["complaint"] = _("该投诉不属于此客户。")
        complaint = None  # the assignee is checked against the customer only
    elif complaint is not None and complaint.status in READ_ONLY_CASE_STATES:
        errors["complaint"] = _("该投诉已归档或已合并，不能再关联关怀任务。")
    if assignee is not None:
        problem = assignee_problem(assignee, customer, complaint)
        if problem:
            errors["assignee"] = problem
    cleaned = ""
    try:
        cleaned = _text(note, "note")
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    return cleaned


def create_care_action(
    customer: Customer,
    *,
    actor: Any,
    kind: str,
    due_at: datetime | None,
    assignee: Any = None,
    complaint: Any = None,
    note: str = "",
    reason: str = "",
    automatic: bool = False,
) -> CareAction:
    """A care task for the customer; on the complaint's chain when it belongs to one."""
    note = check_care(kind=kind, assignee=assignee, due_at=due_at, note=note, complaint=complaint, customer=customer)
    assert due_at is not None
    with transaction.atomic():
        locked = None
        if complaint is not None:
            locked = _lock_case(complaint.pk)
            _check_case_writable(locked)
        care = CareAction.objects.create(
            customer=customer,
            complaint=complaint,
            kind=kind,
            assignee=assignee,
            due_at=due_at,
            note=note,
            reason=reason[:300],
            automatic=automatic,
            created_by=actor.user if actor.kind == "staff" else None,
        )
        if locked is not None:
            _record_on_case(locked, "care_create", actor, _describe(care), note)
    return care


def _check_case_writable(locked: Any) -> None:
    if locked.status in READ_ONLY_CASE_STATES:
        raise ValidationError(
            "complaint",
            _("所关联的投诉 %(tracking_no)s 已归档或已合并（只读），不能再办理其关怀任务。")
            % {"tracking_no": locked.tracking_no},
        )


def may_work_on(user: Any, care: CareAction) -> bool:
    """A writer who may open the customer's profile and, for a care action tied to a case, sees that
    case. Being the assignee or the creator is not enough on its own: access can end (another
    department, another role) after the task was given."""
    from .access import may_see_complaint, profile_access

    access = profile_access(user, care.customer)
    return access.allowed and access.writer and may_see_complaint(user, care.complaint_id)


def _finish(care: CareAction, *, actor: Any, status: str, note: str, action: str) -> CareAction:
    field = "done_note"
    text = _text(note, field, minimum=2 if status == CareStatus.DONE else 0)
    with transaction.atomic():
        # The case first, then the care action: the order of every other write (see _lock_case).
        # A care action's complaint never changes, so the unlocked read names the right case.
        complaint_id = CareAction.objects.filter(pk=care.pk).values_list("complaint_id", flat=True).first()
        case = _lock_case(complaint_id) if complaint_id is not None else None
        locked = CareAction.objects.select_for_update(of=("self",)).select_related("customer").get(pk=care.pk)
        if locked.status != CareStatus.OPEN:
            raise ValidationError(
                "status", _("该关怀任务当前状态为“%(status)s”，不能再操作。") % {"status": locked.get_status_display()}
            )
        if actor.kind == "staff" and not may_work_on(actor.user, locked):
            raise PermissionDenied(_("您不能办理此关怀任务。"))
        if case is not None:
            _check_case_writable(case)
        locked.status = status
        locked.done_by = actor.user if actor.kind == "staff" else None
        locked.done_at = timezone.now()
        locked.done_note = text
        locked.save(update_fields=["status", "done_by", "done_at", "done_note"])
        if case is not None:
            _record_on_case(case, action, actor, _describe(locked), text)
    return locked


def complete_care_action(care: CareAction, *, actor: Any, note: str) -> CareAction:
    """Mark done, with a note of what was done (required)."""
    return _finish(care, actor=actor, status=CareStatus.DONE, note=note, action="care_done")


def cancel_care_action(care: CareAction, *, actor: Any, note: str = "") -> CareAction:
    return _finish(care, actor=actor, status=CareStatus.CANCELLED, note=note, action="care_cancel")
