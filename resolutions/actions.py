"""Remedy writes. Each runs through complaints.actions._run: the case row is locked, its state and the
actor's role are checked (transitions.FROM_STATES, permissions.staff_may), and one event is appended
to the case's ledger chain. The amount rules (authority limits, the approval chain) are checked here,
under the same lock, so two approvers racing for one remedy cannot both decide it."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import Membership, User
from complaints.actions import _notify, _run
from complaints.ledgering import Actor
from complaints.models import CaseShare, Complaint
from complaints.permissions import Principal
from core.errors import ValidationError

from . import authority
from .choices import AUTHORISED, CURRENCIES, LIVE, NEEDS_AUTHORITY, Decision, RemedyKind, RemedyStatus, Step
from .models import Approval, Remedy
from .money import parse_amount

# Kinds that are about money and need an amount.
NEEDS_AMOUNT = NEEDS_AUTHORITY | {RemedyKind.RETURN_REFUND}


def _text(value: str | None, field: str, maximum: int, minimum: int = 0) -> str:
    text = (value or "").strip()
    if len(text) < minimum:
        raise ValidationError(field, _("必填，至少 %(n)d 个字。") % {"n": minimum})
    if len(text) > maximum:
        raise ValidationError(field, _("内容过长（最多 %(n)d 字）。") % {"n": maximum})
    return text


def check_remedy(
    kind: str, amount: Any, currency: str, description: str, statutory_basis: str
) -> tuple[str, Decimal | None, str, str, str]:
    """Validate a new remedy before anything is locked; returns the cleaned values."""
    if kind not in RemedyKind.values:
        raise ValidationError("kind", _("请选择补救措施类型。"))
    value = parse_amount(amount, "amount", required=kind in NEEDS_AMOUNT)
    currency = (currency or "CNY").strip().upper()
    if currency not in CURRENCIES:
        raise ValidationError("currency", _("不支持的币种：%(c)s") % {"c": currency[:10]})
    description = _text(description, "description", 2000)
    if kind not in NEEDS_AMOUNT and not description:
        raise ValidationError("description", _("请说明补救措施的内容。"))
    return kind, value, currency, description, _text(statutory_basis, "statutory_basis", 300)


def _event(remedy: Remedy, **extra: Any) -> dict[str, Any]:
    """The facts of a remedy event, in clear (amounts and kinds are not personal data)."""
    return {
        "remedy_id": remedy.pk,
        "kind": remedy.kind,
        "amount": None if remedy.amount is None else format(remedy.amount, "f"),
        "currency": remedy.currency,
        "remedy_status": remedy.status,
        **extra,
    }


def _share_with_legal(complaint: Complaint, actor: Actor) -> list[str]:
    """A remedy that needs legal's approval is shared with the legal/PR staff who cannot see the case
    yet (DESIGN.md §1: legal/PR see the cases shared with them)."""
    legal = User.objects.filter(
        is_active=True, pk__in=Membership.objects.filter(role=Role.LEGAL_PR).values("user_id")
    ).exclude(pk__in=CaseShare.objects.filter(complaint=complaint).values("user_id"))
    added = [u for u in legal if not Principal.of(u).in_scope(complaint)]
    CaseShare.objects.bulk_create([CaseShare(complaint=complaint, user=u, shared_by=actor.user) for u in added])
    for user in added:  # the cached principal predates the share
        user.__dict__.pop("_complaintdesk_principal", None)
    return [u.get_username() for u in added]


def add_remedy(
    complaint: Complaint,
    *,
    actor: Actor,
    kind: str,
    amount: Any = None,
    currency: str = "CNY",
    description: str = "",
    statutory_basis: str = "",
    expected_version: int | None = None,
) -> Remedy:
    """Propose a remedy. Compensation and goodwill above the proposer's authority go up the chain
    (pending_approval, the approvers told in-app); everything else may be executed at once."""
    kind, value, currency, description, basis = check_remedy(kind, amount, currency, description, statutory_basis)
    created: list[Remedy] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        limits = authority.limits_for(c)
        proposer_limit = authority.own_limit(actor.user, c, limits)
        already = authority.granted_on_case(c)
        steps = authority.required_steps(kind, value, currency, proposer_limit, limits, already=already)
        remedy = Remedy.objects.create(
            complaint=c,
            kind=kind,
            amount=value,
            currency=currency,
            description=description,
            statutory_basis=basis,
            status=RemedyStatus.PENDING_APPROVAL if steps else RemedyStatus.PROPOSED,
            required_steps=[str(s) for s in steps],
            proposed_by=actor.user,
            proposed_at=now,
        )
        created.append(remedy)
        extra: dict[str, Any] = {"required_steps": remedy.required_steps}
        if Step.LEGAL in steps:
            extra["shared_with"] = _share_with_legal(c, actor)
        if steps:
            _notify(
                authority.approvers(remedy, c, limits),
                c,
                "remedy_approval",
                _("投诉 %(no)s 有一项%(kind)s（%(amount)s %(cur)s）待您审批。")
                % {"no": c.tracking_no, "kind": remedy.get_kind_display(), "amount": value, "cur": currency},
            )
        return {"_data": _event(remedy, **extra), "note": description, "basis": basis}

    _run(complaint, actor, "add_remedy", change, expected_version=expected_version)
    return created[0]


def _locked_remedy(complaint: Complaint, remedy: Remedy) -> Remedy:
    # The case row is locked already (every remedy write locks it first), so this cannot race.
    locked = Remedy.objects.select_related("proposed_by").filter(pk=remedy.pk, complaint_id=complaint.pk).first()
    if locked is None:
        raise ValidationError("remedy", _("该补救措施不属于此投诉。"))
    return locked


def _check_not_own(remedy: Remedy, actor: Actor) -> None:
    # Said first, before the role check: the proposer's own remedy is the clearest reason.
    if actor.kind == "staff" and remedy.proposed_by_id == actor.user.pk:
        raise PermissionDenied(_("不能审批自己提出的补救措施。"))


def _check_decidable(remedy: Remedy, user: User, complaint: Complaint) -> tuple[str, dict[str, Decimal]]:
    """The step this user's decision fills, or a refusal naming why."""
    if remedy.status != RemedyStatus.PENDING_APPROVAL:
        raise ValidationError(
            "remedy",
            _("该补救措施当前状态为“%(status)s”，不能再审批。") % {"status": remedy.get_status_display()},
        )
    if remedy.proposed_by_id == user.pk:
        raise PermissionDenied(_("不能审批自己提出的补救措施。"))
    if remedy.approvals.filter(decided_by=user).exists():
        raise ValidationError("remedy", _("您已审批过该补救措施，同一人不能审批两次。"))
    limits = authority.limits_for(complaint)
    step = authority.step_for(user, remedy, complaint, limits)
    if step is None:
        needed = "、".join(str(Step(s).label) for s in authority.open_steps(remedy))
        raise PermissionDenied(
            _("您的审批权限不足以审批 %(amount)s %(cur)s，尚需：%(steps)s。")
            % {"amount": remedy.amount, "cur": remedy.currency, "steps": needed}
        )
    return step, limits


def approve_remedy(remedy: Remedy, *, actor: Actor, comment: str = "", expected_version: int | None = None) -> Remedy:
    """One approval of the chain; the remedy is approved when every required step is."""
    comment = _text(comment, "comment", 2000)
    _check_not_own(remedy, actor)
    result: list[Remedy] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        r = _locked_remedy(c, remedy)
        step, _limits = _check_decidable(r, actor.user, c)
        Approval.objects.create(
            remedy=r, step=step, decision=Decision.APPROVE, decided_by=actor.user, comment=comment, decided_at=now
        )
        if not authority.open_steps(r):
            r.status = RemedyStatus.APPROVED
            r.decided_at = now
            r.save(update_fields=["status", "decided_at"])
            _notify(
                [r.proposed_by],
                c,
                "remedy_approved",
                _("投诉 %(no)s 的%(kind)s已批准。") % {"no": c.tracking_no, "kind": r.get_kind_display()},
            )
        result.append(r)
        return {"_data": _event(r, step=step, decision=Decision.APPROVE), "note": comment}

    _run(remedy.complaint, actor, "approve_remedy", change, expected_version=expected_version)
    return result[0]


def reject_remedy(remedy: Remedy, *, actor: Actor, comment: str, expected_version: int | None = None) -> Remedy:
    """An approver says no, with the reason; the remedy is rejected whatever steps remain."""
    comment = _text(comment, "comment", 2000, minimum=2)
    _check_not_own(remedy, actor)
    result: list[Remedy] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        r = _locked_remedy(c, remedy)
        step, _limits = _check_decidable(r, actor.user, c)
        Approval.objects.create(
            remedy=r, step=step, decision=Decision.REJECT, decided_by=actor.user, comment=comment, decided_at=now
        )
        r.status = RemedyStatus.REJECTED
        r.decided_at = now
        r.save(update_fields=["status", "decided_at"])
        _notify(
            [r.proposed_by],
            c,
            "remedy_rejected",
            _("投诉 %(no)s 的%(kind)s被驳回。") % {"no": c.tracking_no, "kind": r.get_kind_display()},
        )
        result.append(r)
        return {"_data": _event(r, step=step, decision=Decision.REJECT), "note": comment}

    _run(remedy.complaint, actor, "reject_remedy", change, expected_version=expected_version)
    return result[0]


def mark_remedy_paid(
    remedy: Remedy, *, actor: Actor, reference: str = "", expected_version: int | None = None
) -> Remedy:
    """The remedy was executed; money paid with a reference (a transfer or voucher number)."""
    reference = _text(reference, "reference", 100)
    result: list[Remedy] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        r = _locked_remedy(c, remedy)
        if r.status == RemedyStatus.PAID:
            raise ValidationError("remedy", _("该补救措施已执行/支付，不能重复登记。"))
        if r.status not in AUTHORISED:
            raise ValidationError(
                "remedy",
                _("该补救措施当前状态为“%(status)s”，批准后才能执行/支付。") % {"status": r.get_status_display()},
            )
        if r.amount and len(reference) < 2:
            raise ValidationError("reference", _("请填写支付凭证号（转账流水号、券号等）。"))
        r.status = RemedyStatus.PAID
        r.paid_reference = reference
        r.paid_at = now
        r.paid_by = actor.user
        r.save(update_fields=["status", "paid_reference", "paid_at", "paid_by"])
        result.append(r)
        return {"_data": _event(r), "reference": reference}

    _run(remedy.complaint, actor, "mark_remedy_paid", change, expected_version=expected_version)
    return result[0]


def cancel_remedy(remedy: Remedy, *, actor: Actor, reason: str, expected_version: int | None = None) -> Remedy:
    """Withdraw a remedy that has not been executed (the consumer chose another, the case moved on)."""
    reason = _text(reason, "reason", 2000, minimum=2)
    result: list[Remedy] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        r = _locked_remedy(c, remedy)
        if r.status not in LIVE:
            raise ValidationError(
                "remedy", _("该补救措施当前状态为“%(status)s”，不能取消。") % {"status": r.get_status_display()}
            )
        r.status = RemedyStatus.CANCELLED
        r.cancelled_at = now
        r.save(update_fields=["status", "cancelled_at"])
        result.append(r)
        return {"_data": _event(r), "note": reason}

    _run(remedy.complaint, actor, "cancel_remedy", change, expected_version=expected_version)
    return result[0]
