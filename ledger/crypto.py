"""Per-person encryption of personal data in the ledger (AES-256-GCM), for crypto-shredding."""

import base64
import os
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.utils import timezone

from .models import SubjectKey

# key id -> (when loaded, cipher). Entries expire, so a key destroyed in another process stops
# being used here within a minute.
_CACHE_SECONDS = 60.0
_cache: dict[str, tuple[float, AESGCM]] = {}


def new_subject_key() -> SubjectKey:
    key = SubjectKey.objects.create(key=AESGCM.generate_key(bit_length=256))
    _cache[str(key.pk)] = (time.monotonic(), AESGCM(bytes(key.key)))  # the first event encrypts at once
    return key


def _cipher(key_id: str) -> AESGCM | None:
    now = time.monotonic()
    entry = _cache.get(key_id)
    if entry is not None and now - entry[0] < _CACHE_SECONDS:
        return entry[1]
    row = SubjectKey.objects.filter(pk=key_id).values_list("key", flat=True).first()
    if not row:
        _cache.pop(key_id, None)
        return None
    cipher = AESGCM(bytes(row))
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[key_id] = (now, cipher)
    return cipher


def usable(key_id: Any) -> bool:
    """Whether personal data can still be encrypted with this key (False once shredded)."""
    return _cipher(str(key_id)) is not None


def encrypt(key: SubjectKey | uuid.UUID | str, value: Any) -> dict[str, str] | None:
    """{"enc": base64(nonce + ciphertext), "k": key id}; None stays None (nothing to hide)."""
    if value is None or value == "":
        return value
    key_id = str(key.pk if isinstance(key, SubjectKey) else key)
    cipher = _cipher(key_id)
    if cipher is None:
        raise ValueError("subject key destroyed")
    nonce = os.urandom(12)
    token = cipher.encrypt(nonce, str(value).encode(), key_id.encode())
    return {"enc": base64.b64encode(nonce + token).decode(), "k": key_id}


class Shredded:
    """Stands for a value whose key was destroyed."""

    def __repr__(self) -> str:
        return "<shredded>"


SHREDDED = Shredded()


def decrypt(value: Any) -> Any:
    if not (isinstance(value, dict) and "enc" in value):
        return value
    cipher = _cipher(value["k"])
    if cipher is None:
        return SHREDDED
    raw = base64.b64decode(value["enc"])
    return cipher.decrypt(raw[:12], raw[12:], value["k"].encode()).decode()


def shred(key: SubjectKey) -> None:
    """Destroy a subject's key: their personal data in the ledger can never be read again."""
    SubjectKey.objects.filter(pk=key.pk).update(key=None, shredded_at=timezone.now())
    _cache.pop(str(key.pk), None)
