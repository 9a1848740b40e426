"""Idempotency-Key for the public intake: a retry within 24 hours gets the original response back and
creates nothing; the same key with a different body is refused."""

import base64
import hashlib
import json
import os
from datetime import timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import IdempotencyRecord

PENDING = 0
ABANDONED_AFTER = timedelta(minutes=2)


def _cipher(key: str) -> AESGCM:
    derived = hashlib.sha256(f"{settings.SECRET_KEY}:idempotency:{key}".encode()).digest()
    return AESGCM(derived)


def seal(key: str, body: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _cipher(key).encrypt(nonce, json.dumps(body).encode(), None)).decode()


def unseal(key: str, sealed: str) -> dict[str, Any] | None:
    """The original response, or None when it cannot be opened (SECRET_KEY rotated since)."""
    raw = base64.b64decode(sealed)
    try:
        return json.loads(_cipher(key).decrypt(raw[:12], raw[12:], None))
    except InvalidTag:
        return None


def body_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def claim(key: str, digest: str) -> IdempotencyRecord | None:
    """Claim the key for this request. Returns the earlier record when the key was seen within the
    window (the caller replays or refuses it), None when this request now owns the key."""
    window_start = timezone.now() - timedelta(hours=settings.COMPLAINTDESK_IDEMPOTENCY_HOURS)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(key=key, body_hash=digest, status_code=PENDING, response="")
            return None
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(key=key).first()
            if existing is None:
                continue
            abandoned = existing.status_code == PENDING and existing.created_at < timezone.now() - ABANDONED_AFTER
            if existing.created_at < window_start or abandoned:
                # Expired, or a claim whose request died: its response is saved in the case's own
                # transaction, so a claim still pending this long created nothing.
                IdempotencyRecord.objects.filter(pk=existing.pk, status_code=existing.status_code).delete()
                continue
            return existing
    return IdempotencyRecord.objects.filter(key=key).first()


def complete(key: str, status_code: int, body: dict[str, Any]) -> None:
    IdempotencyRecord.objects.filter(key=key).update(status_code=status_code, response=seal(key, body))


def release(key: str) -> None:
    """The request failed before anything was created: the key may be used again."""
    IdempotencyRecord.objects.filter(key=key, status_code=PENDING).delete()


def purge() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.COMPLAINTDESK_IDEMPOTENCY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
