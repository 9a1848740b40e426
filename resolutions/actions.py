"""Remedy writes. Each runs through complaints.actions._run: the case row is locked, its state and the
actor's role are checked (transitions.FROM_STATES, permissions.staff_may), and one event is appended
to the case's ledger chain. The amount rules (authority limits, the approval chain) are checked here,
under the same lock, so two approvers racing for one remedy cannot both decide it."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import Membership, User
from complaints.actions import _notify, _run, check_may
from complaints.choices import Status as ComplaintStatus
from complaints.ledgering import Actor
from complaints.models import CaseShare, Complaint
from complaints.permissions import Principal
from core.errors import TransitionNotAllowed, ValidationError

from . import authority, negotiation
from .choices import (
    AUTHORISED,
    CURRENCIES,
    LIVE,
    NEEDS_AUTHORITY,
    Decision,
    OfferSide,
    OfferStatus,
    RemedyKind,
    RemedyStatus,
    Step,
)
from .models import Approval, Offer, Remedy
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


# --- negotiation (docs/remedies.md, "Negotiation") ------------------------------------------------
# The organisation's offer is complaints.actions.propose_resolution, and the consumer's acceptance and
# refusal are accept_proposal / refuse_proposal: the case's own lifecycle actions, which record the
# offer thread through resolutions.negotiation. The actions below complete the thread.


def make_offer(
    complaint: Complaint,
    *,
    actor: Actor,
    text: str,
    amount: Any = None,
    currency: str = "CNY",
    remedies: list[int] | None = None,
    valid_days: Any = None,
    reply_to: int | None = None,
    expected_version: int | None = None,
) -> Offer:
    """An organisation offer (propose_resolution); returns the offer."""
    from complaints.actions import propose_resolution

    updated = propose_resolution(
        complaint,
        actor=actor,
        text=text,
        amount=amount,
        currency=currency,
        remedies=remedies,
        valid_days=valid_days,
        reply_to=reply_to,
        expected_version=expected_version,
    )
    return Offer.objects.filter(complaint=updated, side=OfferSide.ORGANISATION).latest("made_at", "id")


def counter_offer(
    complaint: Complaint,
    *,
    actor: Actor,
    text: str,
    amount: Any = None,
    currency: str = "CNY",
    offer_id: int | None = None,
    expected_version: int | None = None,
) -> Offer:
    """The consumer answers the open offer with one of their own: the offer is countered, the case is
    back in progress (a counter is a refusal of the offer as made, so a final decision may follow) and
    the owner is told in-app. Staff answer with a new offer."""
    terms = negotiation.check_offer(text, amount, currency)
    created: list[Offer] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        offer = negotiation.offer_to_answer(c, "counter_offer", offer_id, now)
        counter = Offer.objects.create(
            complaint=c,
            side=OfferSide.CONSUMER,
            text=terms.text,
            amount=terms.amount,
            currency=terms.currency,
            reply_to=offer,
            made_at=now,
        )
        if offer is not None:
            offer.status = OfferStatus.COUNTERED
            offer.decided_at = now
            offer.save(update_fields=["status", "decided_at"])
        created.append(counter)
        c.status = ComplaintStatus.IN_PROGRESS
        c.refusal_reason = _("投诉人还价：%(text)s") % {"text": terms.text}
        if c.owner_id:
            _notify(
                [c.owner],
                c,
                "counter_offer",
                _("投诉人对投诉 %(no)s 的处理方案提出了还价（%(amount)s），请答复。")
                % {"no": c.tracking_no, "amount": _money(terms.amount, terms.currency)},
            )
        return {"_data": negotiation.event(counter, answers=offer.pk if offer else None), "text": terms.text}

    from complaints.actions import _answer

    _answer(complaint, actor, "counter_offer", change, offer_id, expected_version)
    return created[0]


def withdraw_offer(offer: Offer, *, actor: Actor, reason: str, expected_version: int | None = None) -> Offer:
    """Staff withdraw the open offer (a mistake, changed facts): the case is back in progress and the
    offer can no longer be accepted."""
    reason = _text(reason, "reason", 2000, minimum=2)
    result: list[Offer] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        o = Offer.objects.filter(pk=offer.pk, complaint=c).first()
        if o is None or o.side != OfferSide.ORGANISATION:
            raise ValidationError("offer", _("该方案不属于此投诉。"))
        if o.status != OfferStatus.OPEN:
            raise ValidationError(
                "offer", _("该方案当前状态为“%(status)s”，不能撤回。") % {"status": o.get_status_display()}
            )
        o.status = OfferStatus.WITHDRAWN
        o.decided_at = now
        o.reason = reason
        o.save(update_fields=["status", "decided_at", "reason"])
        c.status = ComplaintStatus.IN_PROGRESS
        result.append(o)
        return {"_data": negotiation.event(o), "reason": reason}

    _run(offer.complaint, actor, "withdraw_offer", change, expected_version=expected_version)
    return result[0]


def expire_offers(now: datetime | None = None) -> int:
    """The sweep (a scheduled job): open offers past their expiry are recorded as expired and their
    cases go back in progress, the owner told. Safe to run concurrently (each case is locked)."""
    now = now or timezone.now()
    due = Offer.objects.filter(
        side=OfferSide.ORGANISATION,
        status=OfferStatus.OPEN,
        expires_at__lte=now,
        complaint__status=ComplaintStatus.RESOLUTION_PROPOSED,
    ).select_related("complaint")
    expired = 0
    for offer in due:

        def change(c: Complaint, at: datetime, offer: Offer = offer) -> dict[str, Any]:
            o = Offer.objects.get(pk=offer.pk)
            if o.status != OfferStatus.OPEN or negotiation.open_offer(c) is None or o.expires_at > at:  # type: ignore[operator]
                raise TransitionNotAllowed("expire_offer", c.status, [], "answered meanwhile")
            o.status = OfferStatus.EXPIRED
            o.decided_at = o.expires_at
            o.save(update_fields=["status", "decided_at"])
            c.status = ComplaintStatus.IN_PROGRESS
            if c.owner_id:
                _notify(
                    [c.owner],
                    c,
                    "offer_expired",
                    _("投诉 %(no)s 的处理方案已过期，投诉人未答复。") % {"no": c.tracking_no},
                )
            return {"_data": negotiation.event(o)}

        try:
            _run(offer.complaint, Actor.system(), "expire_offer", change)
            expired += 1
        except TransitionNotAllowed:
            continue  # answered or moved on since the query
    return expired


def settle(complaint: Complaint, *, actor: Actor, offer: Offer | None = None) -> Offer:
    """Generate the settlement agreement of the case's accepted offer (the latest by default), store
    it as evidence shown to the consumer, and record its SHA-256 in a settlement_agreement event.
    Refused when the agreement exists already."""
    from evidence.actions import add_evidence
    from evidence.choices import EvidenceKind, Via

    from . import agreement

    check_may(complaint, actor, "settlement_agreement")
    offer = offer or (
        Offer.objects.filter(complaint=complaint, status=OfferStatus.ACCEPTED).order_by("-decided_at", "-id").first()
    )
    if offer is None or offer.complaint_id != complaint.pk or offer.status != OfferStatus.ACCEPTED:
        raise ValidationError("offer", _("该投诉没有已接受的处理方案，不能生成和解协议。"))
    if offer.agreement_id is not None:
        raise ValidationError("offer", _("和解协议已生成（%(no)s）。") % {"no": offer.agreement_no})
    complaint = Complaint.objects.select_related("org_unit").get(pk=complaint.pk)
    content = agreement.build(complaint, offer)
    english = complaint.language == "en"
    filename = f"{'Settlement-Agreement' if english else '和解协议'}-{offer.agreement_no}.pdf"
    result: list[Offer] = []
    with transaction.atomic():
        item = add_evidence(
            complaint,
            content=content,
            filename=filename,
            kind=EvidenceKind.AGREEMENT,
            actor=actor,
            via=Via.STAFF,
            description=_("和解协议 %(no)s") % {"no": offer.agreement_no},
            shown_to_consumer=True,
        )

        def change(c: Complaint, now: datetime) -> dict[str, Any]:
            o = Offer.objects.select_for_update().get(pk=offer.pk)
            if o.agreement_id is not None:
                raise ValidationError("offer", _("和解协议已生成（%(no)s）。") % {"no": o.agreement_no})
            o.agreement = item
            o.save(update_fields=["agreement"])
            result.append(o)
            return {
                "_data": {
                    "offer_id": o.pk,
                    "agreement_no": o.agreement_no,
                    "evidence_id": item.pk,
                    "sha256": item.sha256,
                    "size": item.size,
                    "language": "en" if english else "zh-hans",
                }
            }

        _run(complaint, actor, "settlement_agreement", change)
    return result[0]


def settle_automatically(complaint_id: int, offer_id: int) -> None:
    """The after-commit generation of an accepted offer's agreement (the system acts). Never raises:
    the acceptance stands whatever happens here, and staff regenerate a missing agreement."""
    import logging

    log = logging.getLogger("complaintdesk.tasks")
    offer = Offer.objects.select_related("complaint").filter(pk=offer_id, complaint_id=complaint_id).first()
    if offer is None or offer.agreement_id is not None:
        return
    try:
        settle(offer.complaint, actor=Actor.system(), offer=offer)
    except Exception:
        log.exception("settlement agreement for offer %s of complaint %s failed", offer_id, complaint_id)


def _money(amount: Decimal | None, currency: str) -> str:
    return "—" if amount is None else f"{amount:,.2f} {currency}"
