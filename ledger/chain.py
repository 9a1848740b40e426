"""Appending to the case chains, sealing them with checkpoints."""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .models import Checkpoint, LedgerEvent, SealedHead

GENESIS = "0" * 64
# Events younger than this are left to the next checkpoint: a transaction that took its id earlier
# may not have committed yet.
CHECKPOINT_SETTLE = timedelta(seconds=5)
# How far before the previous checkpoint each round looks again for events that committed late.
RESCAN = timedelta(minutes=10)


# Actions that are in a case's chain but change nothing on the case: reads (views, evidence downloads,
# exports of personal data) for the chain of custody, and resends of a message already written.
NEUTRAL_PREFIXES = ("view_", "download_", "export_", "resend_")


def is_read(action: str) -> bool:
    """A read of a case, or another action that changes nothing on it (NEUTRAL_PREFIXES): it does not
    move the case's version."""
    return action.startswith(NEUTRAL_PREFIXES)


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(event: LedgerEvent) -> str:
    payload = {
        "v": 1,
        "case": event.complaint_id,
        "seq": event.seq,
        "action": event.action,
        "actor": event.actor,
        "actor_label": event.actor_label,
        "changes": event.changes,
        "data": event.data,
        "at": _ts(event.created_at),
        "prev": event.prev_hash,
    }
    return hashlib.sha256(canonical(payload)).hexdigest()


def append(
    complaint_id: int,
    *,
    action: str,
    actor: str,
    actor_label: str,
    changes: dict[str, Any],
    data: dict[str, Any] | None = None,
    first: bool = False,
) -> LedgerEvent:
    """Append one event to a case's chain. The caller holds the case row locked (or just created it)."""
    if first:
        seq, prev = 1, GENESIS
    else:
        head = LedgerEvent.objects.filter(complaint_id=complaint_id).order_by("-seq").values_list("seq", "hash").first()
        seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    event = LedgerEvent(
        complaint_id=complaint_id,
        seq=seq,
        action=action,
        actor=actor,
        actor_label=actor_label,
        changes=changes,
        data=data or {},
        created_at=timezone.now(),
        prev_hash=prev,
    )
    event.hash = event_hash(event)
    event.save(force_insert=True)
    return event


def checkpoint_hash(cp: Checkpoint) -> str:
    payload = {
        "v": 1,
        "seq": cp.seq,
        "at": _ts(cp.created_at),
        "last_event_id": cp.last_event_id,
        "heads": cp.heads,
        "prev": cp.prev_hash,
    }
    return hashlib.sha256(canonical(payload)).hexdigest()


def seal(now: datetime | None = None, settle: timedelta | None = None) -> Checkpoint | None:
    """Write a checkpoint naming the head of every case chain that moved since it was last sealed.
    `settle` overrides CHECKPOINT_SETTLE (an operator sealing everything now passes timedelta(0)).

    Events are found by time, not by id: an id taken early may commit late. Each round looks back
    RESCAN before the previous checkpoint, and SealedHead says which heads are sealed already."""
    now = now or timezone.now()
    settle = CHECKPOINT_SETTLE if settle is None else settle
    with transaction.atomic():
        last = Checkpoint.objects.select_for_update().order_by("-seq").first()
        events = LedgerEvent.objects.filter(created_at__lte=now - settle)
        if last is not None:
            events = events.filter(created_at__gt=last.created_at - RESCAN)
        moved = {
            row["complaint_id"]: (row["head"], row["top"])
            for row in events.values("complaint_id").annotate(head=Max("seq"), top=Max("id")).order_by()
        }
        heads: list[list[Any]] = []
        top_id = last.last_event_id if last else 0
        case_ids = sorted(moved)
        for i in range(0, len(case_ids), 500):
            batch = case_ids[i : i + 500]
            sealed = dict(SealedHead.objects.filter(complaint_id__in=batch).values_list("complaint_id", "seq"))
            due = {cid: moved[cid][0] for cid in batch if moved[cid][0] > sealed.get(cid, 0)}
            if not due:
                continue
            hashes = {
                (cid, seq): h
                for cid, seq, h in LedgerEvent.objects.filter(
                    complaint_id__in=list(due), seq__in=set(due.values())
                ).values_list("complaint_id", "seq", "hash")
            }
            for cid, seq in sorted(due.items()):
                heads.append([cid, seq, hashes[(cid, seq)]])
                top_id = max(top_id, moved[cid][1])
        if not heads:
            return None
        cp = Checkpoint(
            seq=(last.seq + 1) if last else 1,
            created_at=now,
            last_event_id=top_id,
            heads=heads,
            prev_hash=last.hash if last else GENESIS,
        )
        cp.hash = checkpoint_hash(cp)
        cp.save(force_insert=True)
        for cid, seq, _hash in heads:
            SealedHead.objects.update_or_create(complaint_id=cid, defaults={"seq": seq})
        return cp


def digest() -> dict[str, Any]:
    """The head of the checkpoint chain: what is exported or mailed outside the system each day."""
    cp = Checkpoint.objects.order_by("-seq").first()
    if cp is None:
        return {"seq": 0, "hash": GENESIS, "at": None}
    return {"seq": cp.seq, "hash": cp.hash, "at": _ts(cp.created_at), "last_event_id": cp.last_event_id}
