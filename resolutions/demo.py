"""Demo negotiation threads: on a few demo cases in progress, an offer, the consumer's counter-offer,
a final offer accepted on the status page, and its settlement agreement, all through the real
actions (the ledger verifies). Called by the demo generator after the cases are told."""

import random
from datetime import datetime, timedelta
from decimal import Decimal

import time_machine
from django.db.models import Max
from django.test import override_settings
from django.utils import timezone

from complaints import actions as case_actions
from complaints.choices import Status
from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.transitions import guard
from ledger.models import LedgerEvent

from . import actions
from .choices import AUTHORISED
from .models import Offer

THREADS = 3
# (zh, en) wordings of the thread.
FIRST = (
    "经核实，同意为您办理退货退款 %(refund)s。",
    "Having checked, we will take the item back and refund %(refund)s.",
)
COUNTER = (
    "退款可以接受，但商品问题耽误了我的时间，希望另外补偿 %(extra)s。",
    "The refund is fine, but the fault cost me time; I ask for %(extra)s on top.",
)
FINAL = (
    "同意退货退款 %(refund)s，并补偿 %(extra)s（购物券），合计 %(total)s。",
    "We agree to refund %(refund)s and add %(extra)s as a voucher, %(total)s in all.",
)
REFUND_TEXT = ("退货退款", "Return and refund")
GOODWILL_TEXT = ("购物券补偿", "Goodwill voucher")


def _say(complaint: Complaint, pair: tuple[str, str], **values: str) -> str:
    return pair[1 if complaint.language == "en" else 0] % values


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f} CNY"


def _moments(complaint: Complaint, now: datetime, rng: random.Random) -> list[datetime]:
    """Five moments after the case's last event and before now, hours apart where there is room."""
    last = LedgerEvent.objects.filter(complaint=complaint).order_by("-seq").values_list("created_at", flat=True)[0]
    start = max(last + timedelta(minutes=5), now - timedelta(days=6))
    room = max((now - timedelta(minutes=5) - start).total_seconds(), 5.0)
    cuts = sorted(rng.uniform(0, room) for _ in range(5))
    return [start + timedelta(seconds=s) for s in cuts]


def seed(complaints: list[Complaint], rng: random.Random) -> None:
    """Add a negotiation thread to up to three of the given cases that are in progress with an owner
    and no offer yet. Nobody is mailed: task hooks are switched off, as for the rest of the demo."""
    from complaints.demo import DUMMY_TASKS

    candidates = [
        c
        for c in complaints
        if c.status == Status.IN_PROGRESS
        and c.owner_id
        and not Offer.objects.filter(complaint_id=c.pk).exists()
        # A case the offer would be refused on (an open blocking coordination task, say) gets no thread.
        and guard(c, "propose_resolution") is None
    ]
    now = timezone.now()
    # Only cases whose story ended a while ago: the thread is told between their last event and now.
    last = dict(
        LedgerEvent.objects.filter(complaint__in=candidates)
        .values("complaint")
        .annotate(at=Max("created_at"))
        .values_list("complaint", "at")
    )
    candidates = [c for c in candidates if last.get(c.pk, now) < now - timedelta(hours=6)]
    with override_settings(TASKS=DUMMY_TASKS):
        for complaint in rng.sample(candidates, min(THREADS, len(candidates))):
            _thread(Complaint.objects.select_related("owner", "org_unit").get(pk=complaint.pk), now, rng)


def _thread(complaint: Complaint, now: datetime, rng: random.Random) -> None:
    owner = Actor.staff(complaint.owner)
    refund = (complaint.amount_paid or Decimal(rng.choice([199, 299, 459, 899]))).quantize(Decimal("0.01"))
    extra = Decimal(rng.choice([50, 80, 100]))
    at = _moments(complaint, now, rng)
    zh_en = complaint.language == "en"
    with time_machine.travel(at[0], tick=False):
        refund_remedy = actions.add_remedy(
            complaint, actor=owner, kind="return_refund", amount=refund, description=REFUND_TEXT[zh_en]
        )
        actions.make_offer(
            complaint,
            actor=owner,
            text=_say(complaint, FIRST, refund=_money(refund)),
            amount=refund,
            remedies=[refund_remedy.pk],
        )
    with time_machine.travel(at[1], tick=False):
        actions.counter_offer(
            complaint, actor=Actor.consumer(), text=_say(complaint, COUNTER, extra=_money(extra)), amount=refund + extra
        )
    with time_machine.travel(at[2], tick=False):
        goodwill = actions.add_remedy(
            complaint, actor=owner, kind="goodwill", amount=extra, description=GOODWILL_TEXT[zh_en]
        )
        final = actions.make_offer(
            complaint,
            actor=owner,
            text=_say(complaint, FINAL, refund=_money(refund), extra=_money(extra), total=_money(refund + extra)),
            amount=refund + extra,
            # Above the owner's authority the voucher waits for approval: the offer is made without it.
            remedies=[refund_remedy.pk] + ([goodwill.pk] if goodwill.status in AUTHORISED else []),
        )
    with time_machine.travel(at[3], tick=False):
        case_actions.accept_proposal(complaint, actor=Actor.consumer(), offer_id=final.pk, via="web")
    with time_machine.travel(at[4], tick=False):
        actions.settle_automatically(complaint.pk, final.pk)
