"""The negotiation thread's rules (docs/remedies.md, "Negotiation").

Called by the case actions (complaints.actions.propose_resolution / accept_proposal /
refuse_proposal) and by resolutions.actions (counter_offer, withdraw_offer, expire_offer,
settlement_agreement), always inside complaints.actions._run, with the case row locked. Nothing here
opens a transaction or assigns the case's status."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.choices import OPEN_STATES, Status
from complaints.models import Complaint
from core.errors import TransitionNotAllowed, ValidationError

from .choices import AUTHORISED, CURRENCIES, OfferSide, OfferStatus, RemedyStatus
from .models import Offer, Remedy
from .money import parse_amount

# How long an organisation offer may be accepted, in calendar days, unless the handler says otherwise.
DEFAULT_VALID_DAYS = 7
MAX_VALID_DAYS = 90
TEXT_MAX = 10_000


def default_valid_days() -> int:
    return int(getattr(settings, "COMPLAINTDESK_OFFER_VALID_DAYS", DEFAULT_VALID_DAYS))


@dataclass(frozen=True)
class OfferInput:
    """An offer's terms, checked before anything is locked."""

    text: str
    amount: Decimal | None
    currency: str
    valid_days: int


def check_text(value: str | None, field: str = "text", minimum: int = 2) -> str:
    text = (value or "").strip()
    if len(text) < minimum:
        raise ValidationError(field, _("必填，至少 %(n)d 个字。") % {"n": minimum})
    if len(text) > TEXT_MAX:
        raise ValidationError(field, _("内容过长（最多 %(n)d 字）。") % {"n": TEXT_MAX})
    return text


def check_currency(value: str | None) -> str:
    currency = (value or "CNY").strip().upper()
    if currency not in CURRENCIES:
        raise ValidationError("currency", _("不支持的币种：%(c)s") % {"c": currency[:10]})
    return currency


def check_offer(text: str | None, amount: Any, currency: str | None, valid_days: Any = None) -> OfferInput:
    """The terms of an organisation offer or a counter-offer; each refusal names its field."""
    text = check_text(text, "text", 4)
    value = parse_amount(amount, "amount", required=False)
    currency = check_currency(currency)
    if valid_days in (None, ""):
        days = default_valid_days()
    else:
        try:
            days = int(str(valid_days).strip())
        except ValueError:
            raise ValidationError("valid_days", _("有效期应为天数，例如 7。")) from None
        if not 1 <= days <= MAX_VALID_DAYS:
            raise ValidationError("valid_days", _("有效期应在 1 到 %(n)d 天之间。") % {"n": MAX_VALID_DAYS})
    return OfferInput(text, value, currency, days)


def check_remedy_ids(values: Any) -> list[int]:
    if not values:
        return []
    try:
        return sorted({int(v) for v in values})
    except (TypeError, ValueError):
        raise ValidationError("remedies", _("请选择本投诉的补救措施。")) from None


# --- reading the thread -------------------------------------------------------------------------


def live_status(offer: Offer, complaint: Complaint, now: datetime | None = None) -> str:
    """The status the parties see: an open offer past its expiry is expired even before the sweep
    records it, and an open offer of a case that left the negotiation has lapsed."""
    if offer.status != OfferStatus.OPEN:
        return offer.status
    now = now or timezone.now()
    if offer.side == OfferSide.ORGANISATION:
        if offer.expires_at is not None and offer.expires_at <= now:
            return OfferStatus.EXPIRED
        if complaint.status != Status.RESOLUTION_PROPOSED:
            return OfferStatus.LAPSED
    elif complaint.status not in OPEN_STATES:
        return OfferStatus.LAPSED
    return OfferStatus.OPEN


def latest_offer(complaint: Complaint) -> Offer | None:
    return Offer.objects.filter(complaint=complaint, side=OfferSide.ORGANISATION).order_by("-made_at", "-id").first()


def open_offer(complaint: Complaint) -> Offer | None:
    """The organisation offer the consumer may answer now (open, in a case waiting for the answer)."""
    if complaint.status != Status.RESOLUTION_PROPOSED:
        return None
    offer = latest_offer(complaint)
    return offer if offer is not None and offer.status == OfferStatus.OPEN else None


def closed_reason(offer: Offer, complaint: Complaint, now: datetime | None = None) -> str:
    """Why this offer cannot be answered (an empty string when it can)."""
    status = live_status(offer, complaint, now)
    at = timezone.localtime(offer.decided_at or offer.expires_at or offer.made_at).strftime("%Y-%m-%d %H:%M")
    if status == OfferStatus.EXPIRED:
        at = timezone.localtime(offer.expires_at).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]
        return _("该方案已于 %(at)s 过期，不能再接受。请等待经办人提出新的方案，或提出您的方案。") % {"at": at}
    if status == OfferStatus.WITHDRAWN:
        return _("该方案已于 %(at)s 被撤回，不能再接受。") % {"at": at}
    if status == OfferStatus.ACCEPTED:
        return _("该方案已于 %(at)s 被接受。") % {"at": at}
    if status in (OfferStatus.REFUSED, OfferStatus.COUNTERED):
        return _("该方案已于 %(at)s 答复（%(status)s），不能再接受。") % {
            "at": at,
            "status": OfferStatus(status).label,
        }
    if status == OfferStatus.LAPSED:
        return _("该方案已失效，不能再接受。")
    return ""


def offer_to_answer(complaint: Complaint, action: str, offer_id: int | None, now: datetime) -> Offer | None:
    """The open offer the consumer answers, under the case lock; a refusal names why. Cases from
    before the thread existed (a proposal without an offer row) are answered without one."""
    offer = open_offer(complaint)
    if offer_id is not None:
        named = Offer.objects.filter(pk=offer_id, complaint=complaint, side=OfferSide.ORGANISATION).first()
        if named is None:
            raise ValidationError("offer", _("该方案不属于此投诉。"))
        if offer is None or named.pk != offer.pk:
            raise TransitionNotAllowed(action, complaint.status, [], closed_reason(named, complaint, now) or _no_open())
    if offer is None:
        if latest_offer(complaint) is not None:
            raise TransitionNotAllowed(action, complaint.status, [], _no_open())
        return None
    if action == "accept_proposal":
        reason = closed_reason(offer, complaint, now)
        if reason:
            raise TransitionNotAllowed(action, complaint.status, [], reason)
    return offer


def _no_open() -> str:
    return _("目前没有待答复的处理方案。")


def why_not(complaint: Complaint, offer_id: int | None = None) -> str:
    """A clear reason for a refused answer when the case is no longer waiting for one: the offer
    the consumer looked at was withdrawn, expired or answered already."""
    offer = None
    if offer_id is not None:
        offer = Offer.objects.filter(pk=offer_id, complaint=complaint, side=OfferSide.ORGANISATION).first()
    offer = offer or latest_offer(complaint)
    return closed_reason(offer, complaint) if offer is not None else ""


# --- writing the thread (the case is locked) ------------------------------------------------------


def record_offer(
    complaint: Complaint,
    *,
    user: Any,
    now: datetime,
    terms: OfferInput,
    remedy_ids: list[int],
    reply_to: int | None,
) -> Offer:
    """A new organisation offer. It replaces an offer still open, and answers the consumer's open
    counter-offer (or the one named in reply_to)."""
    remedies = _bundled(complaint, remedy_ids)
    amount, currency = terms.amount, terms.currency
    if amount is None and remedies:
        amount, currency = _sum(remedies, currency)
    answered = None
    if reply_to is not None:
        answered = Offer.objects.filter(pk=reply_to, complaint=complaint).first()
        if answered is None:
            raise ValidationError("reply_to", _("该方案不属于此投诉。"))
    counters = Offer.objects.filter(complaint=complaint, side=OfferSide.CONSUMER, status=OfferStatus.OPEN)
    if answered is None:
        answered = counters.order_by("-made_at", "-id").first()
    replaced = Offer.objects.filter(complaint=complaint, side=OfferSide.ORGANISATION, status=OfferStatus.OPEN)
    # The offers this one closes are named in its ledger event (see `changed_offers`).
    closed = {
        "countered": sorted(counters.values_list("pk", flat=True)),
        "superseded": sorted(replaced.values_list("pk", flat=True)),
    }
    counters.update(status=OfferStatus.COUNTERED, decided_at=now)
    replaced.update(status=OfferStatus.WITHDRAWN, decided_at=now, reason=_("已由新的方案取代。"))
    offer = Offer.objects.create(
        complaint=complaint,
        side=OfferSide.ORGANISATION,
        text=terms.text,
        amount=amount,
        currency=currency,
        expires_at=now + timedelta(days=terms.valid_days),
        reply_to=answered,
        made_by=user,
        made_at=now,
    )
    if remedies:
        offer.remedies.set(remedies)
    offer.closed_offers = closed  # type: ignore[attr-defined]
    return offer


def _bundled(complaint: Complaint, remedy_ids: list[int]) -> list[Remedy]:
    """The case's remedies an offer may include: authorised (within authority or approved) or done."""
    if not remedy_ids:
        return []
    remedies = list(Remedy.objects.filter(complaint=complaint, pk__in=remedy_ids).order_by("id"))
    if len(remedies) != len(remedy_ids):
        raise ValidationError("remedies", _("请选择本投诉的补救措施。"))
    for remedy in remedies:
        if remedy.status not in AUTHORISED | {RemedyStatus.PAID}:
            raise ValidationError(
                "remedies",
                _("补救措施“%(kind)s”当前状态为“%(status)s”，批准后才能纳入方案。")
                % {"kind": remedy.get_kind_display(), "status": remedy.get_status_display()},
            )
    return remedies


def _sum(remedies: list[Remedy], currency: str) -> tuple[Decimal | None, str]:
    with_amount = [r for r in remedies if r.amount is not None]
    currencies = {r.currency for r in with_amount}
    if len(currencies) != 1:
        return None, currency  # none, or several currencies: the offer's text says it
    return sum((r.amount for r in with_amount), Decimal(0)), currencies.pop()  # type: ignore[misc]


def event(offer: Offer, **extra: Any) -> dict[str, Any]:
    """The facts of an offer event, in clear (amounts, ids and times are not personal data)."""
    return {
        "offer_id": offer.pk,
        "side": offer.side,
        "amount": None if offer.amount is None else format(offer.amount, "f"),
        "currency": offer.currency,
        "offer_status": offer.status,
        "expires_at": offer.expires_at.isoformat() if offer.expires_at else None,
        "reply_to": offer.reply_to_id,
        "remedy_ids": sorted(r.pk for r in offer.remedies.all()) if offer.pk else [],
        **extra,
    }


def agreement_number(complaint: Complaint) -> str:
    """One number per accepted offer of the case: <tracking number>-HJ01, -HJ02 after a reopening."""
    accepted = Offer.objects.filter(complaint=complaint, status=OfferStatus.ACCEPTED).count()
    return f"{complaint.tracking_no}-HJ{accepted + 1:02d}"


def accept(offer: Offer, complaint: Complaint, *, user: Any, now: datetime, note: str, via: str) -> None:
    offer.agreement_no = agreement_number(complaint)
    offer.status = OfferStatus.ACCEPTED
    offer.decided_at = now
    offer.accepted_via = via
    offer.accepted_by = user
    offer.acceptance_note = note
    offer.save(update_fields=["agreement_no", "status", "decided_at", "accepted_via", "accepted_by", "acceptance_note"])


def refuse(offer: Offer, *, now: datetime, reason: str) -> None:
    offer.status = OfferStatus.REFUSED
    offer.decided_at = now
    offer.reason = reason
    offer.save(update_fields=["status", "decided_at", "reason"])


# --- after commit ---------------------------------------------------------------------------------
