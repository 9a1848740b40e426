"""Hashing of short secrets (access codes, one-time codes): salted SHA-256, compared in constant time.

Access codes carry 60 random bits and the public endpoints are rate-limited, so a fast salted hash
is enough; a slow KDF would only slow every consumer request down."""

import hashlib
import hmac
import secrets


def hash_secret(value: str) -> str:
    salt = secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()
    return f"sha256${salt}${digest}"


def verify_secret(value: str, stored: str) -> bool:
    try:
        algorithm, salt, digest = stored.split("$")
    except ValueError:
        return False
    if algorithm != "sha256":
        return False
    candidate = hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()
    return hmac.compare_digest(candidate, digest)
