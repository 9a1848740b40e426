"""The model audit chain: each ModelEvent carries the SHA-256 of the previous one, like the case
chains (ledger/chain.py: same canonical JSON), so that rewriting an activation is evident."""

import hashlib
from typing import Any

from django.db import transaction
from django.utils import timezone

from ledger.chain import GENESIS, _ts, canonical

from .models import ClassifierModel, ModelEvent


def event_hash(event: ModelEvent) -> str:
    payload = {
        "v": 1,
        "seq": event.seq,
        "action": event.action,
        "model": event.model_id,
        "target": event.target,
        "actor": event.actor,
        "actor_label": event.actor_label,
        "data": event.data,
        "at": _ts(event.created_at),
        "prev": event.prev_hash,
    }
    return hashlib.sha256(canonical(payload)).hexdigest()


def append(
    action: str, *, model: ClassifierModel | None, target: str, actor: str, actor_label: str, data: dict[str, Any]
) -> ModelEvent:
    """Append one event. The head is locked; a concurrent first event loses on the unique seq."""
    with transaction.atomic():
        head = ModelEvent.objects.select_for_update().order_by("-seq").first()
        event = ModelEvent(
            seq=(head.seq + 1) if head else 1,
            action=action,
            model=model,
            target=target,
            actor=actor,
            actor_label=actor_label,
            data=data,
            created_at=timezone.now(),
            prev_hash=head.hash if head else GENESIS,
        )
        event.hash = event_hash(event)
        event.save(force_insert=True)
    return event


def verify() -> list[str]:
    """Problems found, the first broken link first; empty when the chain is intact."""
    problems: list[str] = []
    prev_seq, prev_hash = 0, GENESIS
    for event in ModelEvent.objects.order_by("seq").iterator(chunk_size=500):
        if event.seq != prev_seq + 1:
            problems.append(f"model event seq {event.seq}: expected seq {prev_seq + 1}")
        if event.prev_hash != prev_hash:
            problems.append(f"model event seq {event.seq}: prev_hash does not link to the previous event")
        if event_hash(event) != event.hash:
            problems.append(f"model event seq {event.seq}: hash does not match its content")
        prev_seq, prev_hash = event.seq, event.hash
    return problems
