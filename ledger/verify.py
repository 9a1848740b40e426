"""Verifying the ledger (DESIGN.md §6): recompute every case chain and the checkpoint chain, check
that each case row equals the replay of its events, and that every sealed head is still there.

Reads cases in id batches and streams their events, so memory stays constant however large the
ledger grows. Problems name the case's tracking number (or the checkpoint) and the event seq.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils.module_loading import import_string

from complaints.ledgering import LEDGERED_NAMES, PERSONAL_FIELDS, replay, snapshot
from complaints.models import Complaint

from . import chain
from .crypto import SHREDDED
from .models import Checkpoint, LedgerEvent

CASE_BATCH = 200
HEAD_BATCH = 200

AddProblem = Callable[[str], None]


@dataclass
class Report:
    ok: bool = True
    cases: int = 0
    events: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    first_broken: str | None = None
    # Problems found beyond `limit_problems` (counted, not listed).
    more_problems: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _short(digest: str) -> str:
    return digest[:12] + "…" if len(digest) > 12 else digest


class _CaseCheck:
    """Checks one case's chain as its events stream past (ordered by seq), then its row."""

    def __init__(self, complaint: Complaint, add: AddProblem) -> None:
        self.complaint = complaint
        self.label = complaint.tracking_no
        self.add = add
        self.head_seq = 0
        self.writes = 0  # events that changed the case: the version counts them
        self.prev_hash = chain.GENESIS
        self.state: dict[str, Any] = {}
        self.set_by: dict[str, int] = {}  # field -> seq of the event that last set it
        self.replayable = True

    def feed(self, event: LedgerEvent) -> None:
        where = f"{self.label} event {event.seq}"
        expected = self.head_seq + 1
        if event.seq != expected:
            # Seqs are unique per case and arrive ordered, so a mismatch is always a gap. The next
            # event's link necessarily points into the gap; the gap is the problem, not the link.
            missing = str(expected) if event.seq == expected + 1 else f"{expected}–{event.seq - 1}"
            self.add(f"{self.label} event {missing}: missing (the chain jumps from {self.head_seq} to {event.seq})")
        elif event.prev_hash != self.prev_hash:
            to = "genesis" if event.seq == 1 else f"event {event.seq - 1} ({_short(self.prev_hash)})"
            self.add(f"{where}: does not link to {to}; its prev_hash is {_short(event.prev_hash)}")
        recomputed = chain.event_hash(event)
        if recomputed != event.hash:
            self.add(f"{where}: hash mismatch (stored {_short(event.hash)}, recomputed {_short(recomputed)})")
        # The next event was chained to the hash as stored, so link checks continue from it.
        self.head_seq, self.prev_hash = event.seq, event.hash
        if not chain.is_read(event.action):
            self.writes += 1
        try:
            # replay() folds events in order, so replaying one at a time gives the same state and
            # names the event that cannot be replayed (malformed changes, undecryptable value).
            step = replay([event])
        except Exception as exc:  # any failure here is a broken event: report it, do not crash
            self.add(f"{where}: cannot be replayed ({type(exc).__name__})")
            self.replayable = False
            return
        self.state.update(step)
        self.set_by.update(dict.fromkeys(step, event.seq))

    def finish(self) -> None:
        if self.head_seq == 0:
            self.add(f"{self.label}: no ledger events")
            return
        if self.complaint.version != self.writes:
            self.add(
                f"{self.label}: version {self.complaint.version} but the ledger holds {self.writes} writes "
                f"(head event {self.head_seq})"
            )
        if not self.replayable:
            return
        row = snapshot(self.complaint)
        for name in LEDGERED_NAMES:
            if name not in self.state:
                self.add(f"{self.label} field {name}: never recorded in the ledger")
                continue
            recorded = self.state[name]
            if recorded is SHREDDED or recorded == row[name]:
                continue  # SHREDDED: the person was erased, the row may hold anything (usually blank)
            where = f"{self.label} event {self.set_by[name]} field {name}"
            if name in PERSONAL_FIELDS:
                # Never print personal data: verify output ends up in logs and mail.
                self.add(f"{where}: case row differs from the ledger (personal data, values withheld)")
            else:
                self.add(f"{where}: case row has {row[name]!r}, ledger replay gives {recorded!r}")


@contextmanager
def _consistent_read() -> Iterator[None]:
    """One batch reads case rows and their events as of one moment, so that an action committing in
    between (row at version n+1, event n+1 not yet read, or the reverse) is not taken for tampering.
    PostgreSQL: a REPEATABLE READ snapshot. SQLite: the project's IMMEDIATE transactions lock the
    database for the (short) batch. Inside a caller's transaction, that transaction decides."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _verify_cases(report: Report, add: AddProblem) -> None:
    after = 0
    while True:
        with _consistent_read():
            batch = list(Complaint.objects.filter(pk__gt=after).order_by("pk").defer("search_text")[:CASE_BATCH])
            if not batch:
                return
            checks = {c.pk: _CaseCheck(c, add) for c in batch}
            events = LedgerEvent.objects.filter(complaint_id__in=list(checks)).order_by("complaint_id", "seq")
            for event in events.iterator(chunk_size=2000):
                report.events += 1
                checks[event.complaint_id].feed(event)
            for check in checks.values():
                check.finish()
        report.cases += len(batch)
        after = batch[-1].pk


def _tracking_numbers(case_ids: set[int]) -> dict[int, str]:
    return dict(Complaint.objects.filter(pk__in=case_ids).values_list("pk", "tracking_no"))


def _verify_heads(pending: list[tuple[int, int, int, str]], add: AddProblem) -> None:
    """Each sealed head [case, seq, hash] must still be in the ledger with that hash: deleting or
    rewriting a sealed event is caught here even if someone recomputed the case chain after it."""
    found: dict[tuple[int, int], str] = {}
    for i in range(0, len(pending), HEAD_BATCH):
        wanted = Q()
        for _cp, case_id, seq, _hash in pending[i : i + HEAD_BATCH]:
            wanted |= Q(complaint_id=case_id, seq=seq)
        rows = LedgerEvent.objects.filter(wanted).values_list("complaint_id", "seq", "hash")
        found.update(((cid, seq), h) for cid, seq, h in rows)
    broken = [(cp, cid, seq, h) for cp, cid, seq, h in pending if found.get((cid, seq)) != h]
    if not broken:
        return
    names = _tracking_numbers({cid for _cp, cid, _seq, _h in broken})
    for cp, cid, seq, sealed in broken:
        where = f"checkpoint {cp}: sealed head {names.get(cid, f'case #{cid}')} event {seq}"
        actual = found.get((cid, seq))
        if actual is None:
            add(f"{where} is missing from the ledger")
        else:
            add(f"{where} was rewritten (sealed {_short(sealed)}, now {_short(actual)})")


def _parse_head(head: Any) -> tuple[int, int, str] | None:
    if isinstance(head, list) and len(head) == 3:
        case_id, seq, digest = head
        if isinstance(case_id, int) and isinstance(seq, int) and isinstance(digest, str):
            return case_id, seq, digest
    return None


def _verify_checkpoints(report: Report, add: AddProblem, digest: dict[str, Any] | None) -> None:
    expected, prev = 1, chain.GENESIS
    digest_seq = int(digest["seq"]) if digest else 0
    pending: list[tuple[int, int, int, str]] = []
    # Checkpoints are immutable once written, so no snapshot is needed: a newer one is simply
    # verified or not, and sealed heads only ever refer to events committed before them.
    for cp in Checkpoint.objects.order_by("seq").iterator(chunk_size=500):
        report.checkpoints += 1
        where = f"checkpoint {cp.seq}"
        if cp.seq != expected:
            missing = str(expected) if cp.seq == expected + 1 else f"{expected}–{cp.seq - 1}"
            add(f"checkpoint {missing}: missing (the chain jumps from {expected - 1} to {cp.seq})")
        elif cp.prev_hash != prev:
            to = "genesis" if cp.seq == 1 else f"checkpoint {cp.seq - 1} ({_short(prev)})"
            add(f"{where}: does not link to {to}; its prev_hash is {_short(cp.prev_hash)}")
        recomputed = chain.checkpoint_hash(cp)
        if recomputed != cp.hash:
            add(f"{where}: hash mismatch (stored {_short(cp.hash)}, recomputed {_short(recomputed)})")
        if digest and cp.seq == digest_seq and cp.hash != digest["hash"]:
            add(f"{where}: differs from the exported digest (digest {_short(digest['hash'])}, now {_short(cp.hash)})")
        expected, prev = cp.seq + 1, cp.hash
        heads = cp.heads if isinstance(cp.heads, list) else [cp.heads]
        for head in heads:
            parsed = _parse_head(head)
            if parsed is None:
                add(f"{where}: malformed head {head!r}")
            else:
                pending.append((cp.seq, *parsed))
        if len(pending) >= HEAD_BATCH:
            _verify_heads(pending, add)
            pending = []
    _verify_heads(pending, add)
    if digest_seq >= expected:
        add(f"checkpoint {digest_seq}: named by the exported digest but missing (the chain ends at {expected - 1})")


def _verify_count(report: Report, add: AddProblem, digest: dict[str, Any]) -> None:
    """Events are never deleted: the ledger holds at least what the digest counted. This catches a
    tail cut off after the digest was taken, sealed or not, that the chains alone cannot see."""
    counted = digest.get("events")
    if counted is not None and report.events < counted:
        add(
            f"ledger: {report.events} events, fewer than the {counted} the exported digest counted "
            f"({counted - report.events} deleted)"
        )


# Chains kept beside the case chains for events about no case (issue 9: "the real run is a ledger
# event"), by name: each is an object with `problems()` (its chain recomputed; empty: intact),
# `head()` ({"seq", "hash"} of its last link, into the digest) and `extends(recorded)` (problems if
# the head an exported digest recorded is gone or changed: a cut-off latest link shows there).
SIDE_CHAINS = {"retention_runs": "privacy.retention.RUN_CHAIN"}


def side_chain_heads() -> dict[str, dict[str, Any]]:
    """The head of each side chain, for the digest (ledger.digests.take, core.backup)."""
    return {name: import_string(path).head() for name, path in SIDE_CHAINS.items()}


def _verify_side_chains(add: AddProblem, digest: dict[str, Any] | None) -> None:
    recorded = (digest or {}).get("side_chains") or {}
    for name, path in SIDE_CHAINS.items():
        side_chain = import_string(path)
        for problem in side_chain.problems():
            add(problem)
        if name in recorded:
            for problem in side_chain.extends(recorded[name]):
                add(problem)


def verify(*, limit_problems: int = 50, digest: dict[str, Any] | None = None) -> Report:
    """Verify every case chain, every case row against its replay, and the checkpoint chain.
    `digest` is a digest exported earlier ({"seq": .., "hash": .., "events": ..}, see ledger.digests):
    the checkpoint it names must still be at its position with that hash and every later checkpoint
    must link to it and recompute (a rewrite of the whole database, or a chain cut back to an earlier
    head, fails here), the ledger must hold at least the events it counted, and each side chain must
    still hold the head the digest recorded for it."""
    report = Report()

    def add(problem: str) -> None:
        if report.first_broken is None:
            report.first_broken = problem
        if len(report.problems) < limit_problems:
            report.problems.append(problem)
        else:
            report.more_problems += 1

    _verify_cases(report, add)
    _verify_checkpoints(report, add, digest)
    if digest is not None:
        _verify_count(report, add, digest)
    _verify_side_chains(add, digest)
    report.ok = report.first_broken is None
    return report
