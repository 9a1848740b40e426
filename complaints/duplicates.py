"""Possible duplicates and repeats (重复投诉): found at intake, confirmed (merged) or dismissed by an agent.

A complaint is a possible duplicate of an earlier one when both come from the same complainant (the
same customer profile, matched by normalised phone or e-mail) within the configured window and their
texts are similar (Jaccard similarity of CJK character bigrams and Latin words). A merge folds the
duplicate into the other case: both keep their own history, evidence and ledger chain, and each
names the other."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ValidationError

from .actions import _run, _system_event
from .choices import OPEN_STATES, DuplicateStatus, RiskFlag, Status
from .ledgering import Actor
from .models import Complaint, DuplicateLink
from .search import _CJK, _cjk_tokens, _latin_words


def tokens(text: str) -> set[str]:
    found: set[str] = set()
    for run in _CJK.findall(text or ""):
        found.update(_cjk_tokens(run))
    found.update(w for w in _latin_words(text or "") if len(w) > 1)
    return found


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' tokens, 0..1."""
    left, right = tokens(a), tokens(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def _text(complaint: Complaint) -> str:
    return f"{complaint.title}\n{complaint.description}"


def find_duplicates(complaint_id: int, now: datetime | None = None, *, later: bool = False) -> list[DuplicateLink]:
    """Link a newly received case to the complainant's similar recent cases (run after intake).

    With `later` (imports, whose files need not be sorted by date), the complainant's open cases
    received after this one within the window are checked too: such a case is linked to this one as
    its possible duplicate, as if this case had been stored first."""
    complaint = Complaint.objects.filter(pk=complaint_id).first()
    if complaint is None or complaint.customer_id is None:
        return []
    window = timedelta(days=settings.COMPLAINTDESK_DUPLICATE_WINDOW_DAYS)
    same_person = (
        Complaint.objects.filter(customer_id=complaint.customer_id)
        .exclude(pk=complaint.pk)
        .exclude(status=Status.MERGED)
        .only("id", "tracking_no", "title", "description")
    )
    # Received at the same moment (an import's dates often carry no time): the lower id came first,
    # so two such cases are linked one way only.
    at = complaint.received_at
    same_moment = Q(received_at=at)
    earlier = same_person.filter(
        Q(received_at__gte=at - window, received_at__lt=at) | (same_moment & Q(pk__lt=complaint.pk))
    ).order_by("-received_at", "-pk")[:50]
    text = _text(complaint)
    links = _link(complaint, _similar(text, earlier), now)
    if later:
        after = same_person.filter(
            Q(received_at__gt=at, received_at__lte=at + window) | (same_moment & Q(pk__gt=complaint.pk)),
            status__in=OPEN_STATES,
        ).order_by("received_at", "pk")[:50]
        for other, score in _similar(text, after):
            links += _link(other, [(complaint, score)], now)
    return links


def _similar(text: str, cases: Iterable[Complaint]) -> list[tuple[Complaint, float]]:
    threshold = settings.COMPLAINTDESK_DUPLICATE_THRESHOLD
    scored = [(other, similarity(text, _text(other))) for other in cases]
    return [(other, score) for other, score in scored if score >= threshold]


def _link(complaint: Complaint, found: list[tuple[Complaint, float]], now: datetime | None) -> list[DuplicateLink]:
    """`complaint` is a possible duplicate of each found case. Returns the links, old and new; the
    new ones also give the case the `repeat` flag and one `suspect_duplicate` event naming them."""
    links, new = [], []
    with transaction.atomic():
        for other, score in found:
            link, created = DuplicateLink.objects.get_or_create(
                complaint=complaint, candidate=other, defaults={"score": Decimal(f"{score:.3f}")}
            )
            links.append(link)
            if created:
                new.append((other, score))
        if not new:
            return links

        def change(c: Complaint, at: datetime) -> dict[str, Any] | None:
            if RiskFlag.REPEAT not in c.risk_flags:
                c.risk_flags = sorted({*c.risk_flags, RiskFlag.REPEAT})
            return {"candidates": [[other.tracking_no, round(score, 3)] for other, score in new]}

        _system_event(complaint, "suspect_duplicate", change, now or timezone.now())
    return links


def merge(
    duplicate: Complaint, *, actor: Actor, into: Complaint, note: str = "", expected_version: int | None = None
) -> Complaint:
    """Fold `duplicate` into `into` (status merged). Both chains record it; nothing is moved or lost."""
    from .permissions import Principal

    if duplicate.pk == into.pk:
        raise ValidationError("into", _("不能与自身合并。"))
    if into.status in {Status.MERGED, Status.ARCHIVED} or into.merged_into_id:
        raise ValidationError("into", _("目标投诉已合并或已归档，不能再并入。"))
    if actor.kind == "staff" and not Principal.of(actor.user).can_see(into):
        raise PermissionDenied(_("您无权查看目标投诉。"))
    with transaction.atomic():
        first, second = sorted([duplicate, into], key=lambda c: c.pk)  # one lock order: no deadlock

        def fold(c: Complaint, now: datetime) -> dict[str, Any]:
            c.status = Status.MERGED
            c.merged_into = into
            DuplicateLink.objects.filter(complaint=c, candidate=into).update(
                status=DuplicateStatus.CONFIRMED, decided_by=actor.user, decided_at=now
            )
            return {"note": note, "_data": {"into": into.tracking_no}}

        def absorb(c: Complaint, now: datetime) -> dict[str, Any]:
            return {"note": note, "_data": {"merged": duplicate.tracking_no}}

        results = {}
        for case in (first, second):
            if case.pk == duplicate.pk:
                results["duplicate"] = _run(case, actor, "merge", fold, expected_version=expected_version)
            else:
                results["into"] = _run(case, actor, "absorb", absorb)
    return results["duplicate"]


def dismiss(link: DuplicateLink, *, actor: Actor, note: str = "") -> DuplicateLink:
    """Not a duplicate: the link is kept, marked dismissed, and the case's chain says who decided."""
    if link.status != DuplicateStatus.SUSPECTED:
        raise ValidationError("link", _("该疑似重复已处理。"))

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        DuplicateLink.objects.filter(pk=link.pk).update(
            status=DuplicateStatus.DISMISSED, decided_by=actor.user, decided_at=now
        )
        return {"note": note, "_data": {"candidate": link.candidate.tracking_no}}

    _run(link.complaint, actor, "dismiss_duplicate", change)
    link.refresh_from_db()
    return link
