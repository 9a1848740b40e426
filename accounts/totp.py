"""TOTP (RFC 6238) for the second sign-in step: the secret sealed at rest, codes checked once, the
enrolment QR code drawn as inline SVG (no external fetch).

The secret must be readable to check codes, so it cannot be hashed: it is encrypted with AES-256-GCM
under a key derived from SECRET_KEY (as the webhook secrets are), with the user's id as associated
data so that a sealed secret copied to another user's row does not open. Rotating SECRET_KEY keeps
the devices working while the old key is in SECRET_KEY_FALLBACKS; a secret opened with a fallback is
sealed again under the new key at its next use."""

import base64
import hashlib
import os
import secrets
import time

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

DIGITS = 6
STEP_SECONDS = 30
# Codes of the step before and after the current one are accepted too (clocks drift, people type slowly).
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def _cipher(secret_key: str) -> AESGCM:
    return AESGCM(hashlib.sha256(f"{secret_key}:accounts-totp-secret".encode()).digest())


def _aad(user_id: int) -> bytes:
    return f"totp:{user_id}".encode()


def new_secret() -> str:
    """160 random bits, base32 (what authenticator apps expect)."""
    return pyotp.random_base32(32)


def seal(user_id: int, secret: str) -> str:
    nonce = os.urandom(12)
    sealed = _cipher(settings.SECRET_KEY).encrypt(nonce, secret.encode(), _aad(user_id))
    return base64.b64encode(nonce + sealed).decode()


def open_sealed(user_id: int, sealed: str) -> tuple[str, bool] | None:
    """(secret, opened with a fallback key) or None when no key opens it."""
    try:
        raw = base64.b64decode(sealed)
    except ValueError:
        return None
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    for index, key in enumerate(keys):
        try:
            return _cipher(key).decrypt(raw[:12], raw[12:], _aad(user_id)).decode(), index > 0
        except (InvalidTag, ValueError):
            continue
    return None


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def matching_step(secret: str, code: str, after_step: int, now: float | None = None) -> int | None:
    """The time step whose code `code` is, within the drift allowed and later than `after_step` (a code
    is accepted once); None when it matches none."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    step = current_step(now)
    found = None
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        # Compare every candidate (constant work whichever matches).
        if secrets.compare_digest(totp.generate_otp(candidate), code) and candidate > after_step:
            found = candidate
    return found


def code_at(secret: str, step: int) -> str:
    """The code of a time step (tests, and the enrolment page's own check)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def provisioning_uri(secret: str, account: str) -> str:
    issuer = getattr(settings, "COMPLAINTDESK_2FA_ISSUER", "ComplaintDesk")
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> SafeString:
    """The otpauth:// URI as an inline SVG QR code (no style attributes: the CSP allows no inline style)."""
    qr = segno.make(uri, error="m", micro=False)
    svg = qr.svg_inline(scale=5, dark="#000", light="#fff", border=4, title="QR", svgclass="qr", lineclass=None)
    return mark_safe(svg)  # noqa: S308 — segno's own markup; the URI is encoded in the path, not as text


def new_recovery_codes() -> list[str]:
    """Ten codes of 10 characters from a 31-letter alphabet (~49.5 bits each), shown as xxxxx-xxxxx."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normalise_recovery_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.lower() if ch.isalnum())
    return f"{cleaned[:5]}-{cleaned[5:]}" if len(cleaned) == 10 else cleaned
