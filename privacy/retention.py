"""Retention (PIPL art. 19, 47): anonymise what has outlived COMPLAINTDESK_PERSONAL_DATA_RETENTION_DAYS
(docs/privacy.md, "Retention").

What goes, measured from an instant `as_of` (now, or the start of a given day) with
cutoff = as_of − the retention period:

- a **case** that is finished (not open, not resolved-but-not-closed: the same rule as erasure on
  request, privacy.actions.blockers_of) and ended (privacy.actions.case_end) on or before the
  cutoff, not yet anonymised since it ended, and held by no legal hold: not its own, not one on
  another case of the same person (litigation about a person needs their history), not one on the
  case it was merged into. A merged duplicate follows the case it was folded into: it goes when
  that case may go. A case goes **on its own** even while its person is kept by a newer case:
  its retention duty is its own, and the newer case holds the current contact details on itself
  and on the customer record (a legal hold on the newer case keeps it, above).
- a **customer** (the person as a whole: every app's part through privacy.registry, their mail,
  the customer record, their keys destroyed) none of whose cases is kept by the rule above (no
  open case, none ended after the cutoff, no legal hold), with no order, service record or care
  action after the cutoff and no open care action, whose profile is itself older than the cutoff.
  Orders stay as bookkeeping facts (customers.apps: they name nobody once the profile is erased).

A case is anonymised by the erasure machinery itself (privacy.actions._erase_case: complainant
fields blanked, contact details and the person's names redacted from the free text and the records
around it, one `erase_personal` event naming the run); it keeps everything analytics counts
(dates, category, product, org unit, region codes, amounts, outcome). Its key is destroyed when it is
the case's alone (a complaint without a customer); a key shared with the person's kept cases goes
when the person goes. Evidence files follow evidence retention (their descriptions and names are
redacted here). "Anonymised since it ended": the case has an `erase_personal` event no older than
its end, so a case reopened after anonymisation is looked at again after its new end.

Each customer, and each case, is anonymised in a transaction of its own, under row locks, after
checking again that it is due: a crash loses nothing and a rerun continues. The run itself is one
`retention_run` row (privacy.models.RetentionRun), hash-chained, written at the end."""

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.actions import _lock
from complaints.choices import OPEN_STATES, Status
from complaints.ledgering import Actor
from complaints.models import Complaint
from customers.choices import CareStatus
from customers.models import CareAction, Customer, Order, ServiceRecord
from intake.models import InboundMail
from ledger.chain import GENESIS, canonical
from ledger.crypto import shred
from ledger.models import LedgerEvent, SubjectKey

from . import registry
from .actions import _erase_case, blockers_of, case_end, erase_person, retention_days
from .models import RetentionRun
from .sections import erase_inbound_mail, redactor

# A case in these states is still being handled (as privacy.actions.blockers_of: open, or resolved
# and not yet closed); every other state is finished.
KEPT_STATES = frozenset(OPEN_STATES | {Status.RESOLVED})
BATCH = 200
ERASED_ACTION = "erase_personal"


def _end(prefix: str = "") -> Coalesce:
    """privacy.actions.case_end in SQL (the same order)."""
    return Coalesce(
        *(f"{prefix}{name}" for name in ("closed_at", "archived_at", "resolved_at", "acknowledged_at", "received_at"))
    )


def as_of_day(day: date) -> datetime:
    """`--as-of DAY`: the start of that day in the organisation's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def cutoff_of(as_of: datetime) -> datetime:
    return as_of - timedelta(days=retention_days())


def _finished_cases(as_of: datetime) -> QuerySet[Complaint]:
    """Finished cases ended on or before the cutoff, not anonymised since, whose merge target (if
    any) is finished and past retention too. Legal holds are not looked at yet."""
    cutoff = cutoff_of(as_of)
    anonymised = LedgerEvent.objects.filter(
        complaint_id=OuterRef("pk"), action=ERASED_ACTION, created_at__gte=OuterRef("ended")
    )
    master_kept = Q(merged_into__isnull=False) & (Q(merged_into__status__in=KEPT_STATES) | Q(master_ended__gt=cutoff))
    return (
        Complaint.objects.filter(received_at__lte=cutoff)  # the end is never before receipt: the index narrows
        .exclude(status__in=KEPT_STATES)
        .annotate(ended=_end(), master_ended=_end("merged_into__"))
        .filter(ended__lte=cutoff)
        .exclude(master_kept)
        .exclude(Exists(anonymised))
    )


def _hold_q() -> Q:
    """A legal hold keeps the case: its own, one on another case of the same person, one on the case
    it was merged into."""
    person_held = Complaint.objects.filter(customer_id=OuterRef("customer_id"), legal_hold=True)
    return Q(legal_hold=True) | Q(Exists(person_held)) | Q(merged_into__legal_hold=True)


def due_cases(as_of: datetime) -> QuerySet[Complaint]:
    """The cases retention anonymises as of `as_of`."""
    return _finished_cases(as_of).exclude(_hold_q())


def held_cases(as_of: datetime) -> QuerySet[Complaint]:
    """The cases that would be anonymised but for a legal hold."""
    return _finished_cases(as_of).filter(_hold_q())


def due_customers(as_of: datetime) -> QuerySet[Customer]:
    """The people retention erases as a whole as of `as_of` (see the module doc)."""
    cutoff = cutoff_of(as_of)
    kept_case = (
        Complaint.objects.filter(customer_id=OuterRef("pk"))
        .annotate(ended=_end(), master_ended=_end("merged_into__"))
        .filter(
            Q(status__in=KEPT_STATES)
            | Q(ended__gt=cutoff)
            | Q(legal_hold=True)
            | Q(merged_into__legal_hold=True)
            | Q(merged_into__status__in=KEPT_STATES)
            | Q(master_ended__gt=cutoff)
        )
    )
    return (
        Customer.objects.filter(created_at__lte=cutoff, subject_key__shredded_at__isnull=True)
        .exclude(Exists(kept_case))
        .exclude(Exists(Order.objects.filter(customer_id=OuterRef("pk"), ordered_at__gt=cutoff)))
        .exclude(Exists(ServiceRecord.objects.filter(customer_id=OuterRef("pk"), occurred_at__gt=cutoff)))
        .exclude(
            Exists(
                CareAction.objects.filter(
                    Q(status=CareStatus.OPEN) | Q(created_at__gt=cutoff), customer_id=OuterRef("pk")
                )
            )
        )
    )


def _ids(rows: QuerySet[Any]) -> Iterator[int]:
    """The ids of `rows` in order, a batch at a time (rows anonymised meanwhile drop out of the
    query; the key moves on past those skipped)."""
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not batch:
            return
        yield from batch
        last = batch[-1]


# --- the plan (dry run) -------------------------------------------------------------------------


def _day(moment: datetime) -> str:
    return timezone.localtime(moment).date().isoformat()


@dataclass
class Plan:
    """What a run would do as of `as_of`: the counts, and the first `limit` of each list."""

    as_of: datetime
    retention_days: int
    counts: dict[str, int]
    customers: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "retention_days": self.retention_days,
            "cutoff": cutoff_of(self.as_of).isoformat(),
            "cutoff_on": _day(cutoff_of(self.as_of)),
            "counts": self.counts,
            "customers": self.customers,
            "cases": self.cases,
            "held": self.held,
        }


def _case_row(c: Complaint, days: int) -> dict[str, Any]:
    ended = case_end(c)
    return {
        "tracking_no": c.tracking_no,
        "status": c.status,
        "customer_id": c.customer_id,
        "ended_on": _day(ended),
        "retention_until": _day(ended + timedelta(days=days)),
    }


def _held_row(c: Complaint, days: int) -> dict[str, Any]:
    row = _case_row(c, days)
    holds = []
    if c.legal_hold:
        holds.append({"hold": "legal_hold", "tracking_no": c.tracking_no})
    if c.customer_id:
        for number in (
            Complaint.objects.filter(customer_id=c.customer_id, legal_hold=True)
            .exclude(pk=c.pk)
            .order_by("pk")
            .values_list("tracking_no", flat=True)
        ):
            holds.append({"hold": "person_legal_hold", "tracking_no": number})
    if c.merged_into_id and c.merged_into.legal_hold:
        holds.append({"hold": "merged_into_legal_hold", "tracking_no": c.merged_into.tracking_no})
    row["held_by"] = holds
    return row


def _customer_row(person: Customer, days: int) -> dict[str, Any]:
    """Why the person goes: the last thing that kept them (a case's end, an order, a service, a
    care action, the profile's creation) and when retention after it ended."""
    moments = [person.created_at]
    moments += [case_end(c) for c in Complaint.objects.filter(customer=person)]
    for value in (
        Order.objects.filter(customer=person).aggregate(m=Max("ordered_at"))["m"],
        ServiceRecord.objects.filter(customer=person).aggregate(m=Max("occurred_at"))["m"],
        CareAction.objects.filter(customer=person).aggregate(m=Max("created_at"))["m"],
    ):
        if value is not None:
            moments.append(value)
    last = max(moments)
    return {
        "customer_id": person.pk,
        "cases": Complaint.objects.filter(customer=person).count(),
        "last_activity_on": _day(last),
        "retention_until": _day(last + timedelta(days=days)),
    }


def plan(as_of: datetime | None = None, limit: int | None = None) -> Plan:
    """The dry run: everything that is due, and what a legal hold keeps. Reads only."""
    as_of = as_of or timezone.now()
    days = retention_days()
    cases, customers, held = due_cases(as_of), due_customers(as_of), held_cases(as_of)
    result = Plan(
        as_of=as_of,
        retention_days=days,
        counts={"customers": customers.count(), "cases": cases.count(), "held": held.count()},
    )
    result.customers = [_customer_row(p, days) for p in customers.order_by("pk")[:limit]]
    result.cases = [_case_row(c, days) for c in cases.order_by("pk")[:limit]]
    result.held = [_held_row(c, days) for c in held.select_related("merged_into").order_by("pk")[:limit]]
    return result


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    run: RetentionRun
    counts: dict[str, Any]


def _empty_counts() -> dict[str, Any]:
    return {
        "customers": 0,
        "cases": 0,
        "keys_shredded": 0,
        "records": {"messages": 0, "contacts": 0, "replies": 0, "evidence": 0, "inbound_mail": 0},
    }


def _anonymised_among(ids: list[int]) -> set[int]:
    """Which of these cases have been anonymised since they ended."""
    anonymised = LedgerEvent.objects.filter(
        complaint_id=OuterRef("pk"), action=ERASED_ACTION, created_at__gte=OuterRef("ended")
    )
    rows = Complaint.objects.filter(pk__in=ids).annotate(ended=_end()).filter(Exists(anonymised))
    return set(rows.values_list("pk", flat=True))


def _mail_note() -> str:
    return _("保存期满，发件人的个人信息已匿名化。")


def anonymise_customer(pk: int, *, as_of: datetime, actor: Actor, facts: dict[str, Any]) -> dict[str, Any] | None:
    """Erase one person whom nothing keeps any more, in one transaction; None when they are not
    due (any longer) when looked at under the locks."""
    with transaction.atomic():
        person = Customer.objects.select_for_update().filter(pk=pk).first()
        if person is None:
            return None
        ids = Complaint.objects.filter(customer=person).order_by("pk").values_list("pk", flat=True)
        cases = [_lock(c) for c in ids]
        if not due_customers(as_of).filter(pk=pk).exists() or blockers_of(cases, as_of):
            return None
        keys = {person.subject_key_id, *(c.subject_key_id for c in cases)}
        live = SubjectKey.objects.filter(pk__in=keys, shredded_at__isnull=True).count()
        done = _anonymised_among([c.pk for c in cases])
        detail = erase_person(person, cases, actor=actor, facts=facts, skip=frozenset(done), mail_note=_mail_note())
        detail["cases_anonymised"] = len(cases) - len(done)
        detail["keys_shredded"] = live
        return detail


def anonymise_case(pk: int, *, as_of: datetime, actor: Actor, facts: dict[str, Any]) -> dict[str, Any] | None:
    """Anonymise one case on its own (its person, if any, is kept for now), in one transaction; None
    when it is not due (any longer) when looked at under the lock."""
    with transaction.atomic():
        try:
            locked = _lock(pk)
        except Complaint.DoesNotExist:
            return None
        if not due_cases(as_of).filter(pk=pk).exists():
            return None
        person = Customer.objects.filter(pk=locked.customer_id).first() if locked.customer_id else None
        # What identifies the person is read before anything is erased.
        names = redactor([locked.complainant_name, person.name if person else ""])
        apps = registry.erase_case_personal(locked)
        mails = InboundMail.objects.filter(complaint=locked).order_by("pk")
        records = {"inbound_mail": erase_inbound_mail(mails, names, actor_user=actor.user, note=_mail_note())}
        records.update(_erase_case(locked, actor=actor, names=names, facts=facts))
        # The key goes now only where it is this case's alone; a key shared with the person's
        # other cases or profile goes when the person goes.
        key = locked.subject_key_id
        shredded = 0
        alone = not (
            Customer.objects.filter(subject_key_id=key).exists()
            or Complaint.objects.filter(subject_key_id=key).exclude(pk=pk).exists()
        )
        if alone:
            for subject_key in SubjectKey.objects.filter(pk=key, shredded_at__isnull=True):
                shred(subject_key)
                shredded += 1
        return {"records": records, "apps": apps, "keys_shredded": shredded}


def _add(total: dict[str, Any], detail: dict[str, Any]) -> None:
    total["keys_shredded"] += detail["keys_shredded"]
    for key, count in detail["records"].items():
        total["records"][key] = total["records"].get(key, 0) + count


def run(
    *, as_of: datetime | None = None, limit: int | None = None, trigger: str = "command", actor: Actor | None = None
) -> Outcome:
    """Anonymise what is due: the people first (their part in every app needs their cases intact),
    then the remaining cases one by one; at most `limit` of them (a person with all their cases
    counts as one). Then the one `retention_run` row with the counts."""
    started = timezone.now()
    as_of = as_of or started
    actor = actor or Actor.system()
    run_id = uuid.uuid4()
    facts = {"retention_run": str(run_id)}
    counts = _empty_counts()
    budget = limit if limit is not None else -1
    for pk in _ids(due_customers(as_of)):
        if budget == 0:
            break
        detail = anonymise_customer(pk, as_of=as_of, actor=actor, facts=facts)
        if detail is not None:
            counts["customers"] += 1
            counts["cases"] += detail["cases_anonymised"]
            _add(counts, detail)
            budget -= 1
    for pk in _ids(due_cases(as_of)):
        if budget == 0:
            break
        detail = anonymise_case(pk, as_of=as_of, actor=actor, facts=facts)
        if detail is not None:
            counts["cases"] += 1
            _add(counts, detail)
            budget -= 1
    counts["held"] = held_cases(as_of).count()
    counts["remaining"] = {"customers": due_customers(as_of).count(), "cases": due_cases(as_of).count()}
    row = _record(run_id, started=started, as_of=as_of, trigger=trigger, actor=actor, counts=counts)
    return Outcome(run=row, counts=counts)


# --- the run record: a hash chain of its own ----------------------------------------------------


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def run_hash(row: RetentionRun) -> str:
    payload = {
        "v": 1,
        "id": str(row.id),
        "seq": row.seq,
        "action": row.action,
        "started_at": _ts(row.started_at),
        "finished_at": _ts(row.finished_at),
        "as_of": _ts(row.as_of),
        "retention_days": row.retention_days,
        "trigger": row.trigger,
        "actor": row.actor,
        "counts": row.counts,
        "prev": row.prev_hash,
    }
    return hashlib.sha256(canonical(payload)).hexdigest()


def _record(
    run_id: uuid.UUID, *, started: datetime, as_of: datetime, trigger: str, actor: Actor, counts: dict[str, Any]
) -> RetentionRun:
    for attempt in range(3):
        try:
            with transaction.atomic():
                last = RetentionRun.objects.select_for_update().order_by("-seq").first()
                row = RetentionRun(
                    id=run_id,
                    seq=last.seq + 1 if last else 1,
                    started_at=started,
                    finished_at=timezone.now(),
                    as_of=as_of,
                    retention_days=retention_days(),
                    trigger=trigger,
                    actor=actor.label,
                    counts=counts,
                    prev_hash=last.hash if last else GENESIS,
                )
                row.hash = run_hash(row)
                row.save(force_insert=True)
                return row
        except IntegrityError:  # another run took the sequence number first: link to it instead
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def verify_runs() -> list[str]:
    """The run records' chain recomputed: problems, first broken link first (empty: intact)."""
    problems = []
    prev, expected = GENESIS, 1
    for row in RetentionRun.objects.order_by("seq").iterator():
        where = f"retention run {row.seq}"
        if row.seq != expected:
            problems.append(f"{where}: missing run(s) {expected}–{row.seq - 1}")
        elif row.prev_hash != prev:
            problems.append(f"{where}: does not link to the run before it")
        if run_hash(row) != row.hash:
            problems.append(f"{where}: hash mismatch")
        prev, expected = row.hash, row.seq + 1
    return problems


class RunChain:
    """The run records' chain as ledger.verify reads it (SIDE_CHAINS): its head goes into the daily
    digest, so that deleting the latest run, which leaves the rest of the chain intact, is caught
    by `verify_ledger --against DIGEST`."""

    def problems(self) -> list[str]:
        return verify_runs()

    def head(self) -> dict[str, Any]:
        last = RetentionRun.objects.order_by("-seq").first()
        return {"seq": last.seq, "hash": last.hash} if last else {"seq": 0, "hash": GENESIS}

    def extends(self, recorded: Any) -> list[str]:
        """Problems if the run the digest recorded as the head is no longer there with its hash (the
        chain check then proves that every later run links back to it)."""
        try:
            seq, digest_hash = int(recorded["seq"]), str(recorded["hash"])
        except (TypeError, KeyError, ValueError):
            return ["retention runs: the digest's head of the run chain is not {seq, hash}"]
        if seq <= 0:
            return []
        row = RetentionRun.objects.filter(seq=seq).first()
        if row is None:
            return [f"retention run {seq}: the exported digest recorded it, and it is gone"]
        if row.hash != digest_hash:
            return [f"retention run {seq}: its hash differs from the one the exported digest recorded"]
        return []


RUN_CHAIN = RunChain()


def erased_by_run(row: RetentionRun) -> QuerySet[LedgerEvent]:
    """The case events a run wrote (each names it), to check a run's counts against the ledger."""
    return LedgerEvent.objects.filter(action=ERASED_ACTION, data__retention_run=str(row.id))
