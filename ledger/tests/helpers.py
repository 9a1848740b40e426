"""Reading and rewriting ledger rows the way someone with database access would."""

from datetime import timedelta

from complaints.models import Complaint
from ledger import chain
from ledger.models import Checkpoint, LedgerEvent


def events_of(complaint: Complaint) -> list[LedgerEvent]:
    return list(LedgerEvent.objects.filter(complaint=complaint).order_by("seq"))


def event(complaint: Complaint, seq: int) -> LedgerEvent:
    return LedgerEvent.objects.get(complaint=complaint, seq=seq)


# submit, accept, start_work, add_note, propose_resolution (see the make_case fixture).
WORKED_EVENTS = 5


def seal_now() -> Checkpoint:
    checkpoint = chain.seal(settle=timedelta(0))
    assert checkpoint is not None
    return checkpoint


def rechain(complaint: Complaint) -> None:
    """Renumber a case's events 1..n and recompute every link and hash, as someone who deleted an
    event and wanted the case chain to verify again would."""
    prev = chain.GENESIS
    for seq, ev in enumerate(events_of(complaint), start=1):
        if ev.seq != seq:
            LedgerEvent.objects.filter(pk=ev.pk).update(seq=seq)
        ev.seq, ev.prev_hash = seq, prev
        ev.hash = chain.event_hash(ev)
        LedgerEvent.objects.filter(pk=ev.pk).update(prev_hash=ev.prev_hash, hash=ev.hash)
        prev = ev.hash
