"""Tracking numbers TS{yyyymmdd}-{sequence}: the date in the organisation's time zone, the sequence
zero-padded to six digits and simply longer past 999,999 in a day."""

import secrets
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from core.secrets import hash_secret, verify_secret

_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone


def next_tracking_no(received_at: datetime) -> str:
    """Allocate the next number of the day in one atomic upsert, unique under concurrency on SQLite
    and PostgreSQL alike. Run it outside the case's transaction so the counter row is locked only for
    the statement (a number whose transaction later fails is skipped, never reused)."""
    day = timezone.localdate(received_at, timezone.get_default_timezone())
    standalone = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if standalone and connection.vendor == "postgresql":
            # No flush to disk of its own: the case's commit comes later in the WAL and flushes it.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            "INSERT INTO complaints_trackingsequence (day, last) VALUES (%s, 1) "
            "ON CONFLICT (day) DO UPDATE SET last = complaints_trackingsequence.last + 1 RETURNING last",
            [day.isoformat()],
        )
        sequence = cursor.fetchone()[0]
    return f"TS{day:%Y%m%d}-{sequence:06d}"


def new_access_code() -> str:
    """12 characters from a 32-letter alphabet: 60 bits, typed from a letter or a text message."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(12))


def hash_access_code(code: str) -> str:
    return hash_secret(normalise_access_code(code))


def check_access_code(code: str, stored: str) -> bool:
    return verify_secret(normalise_access_code(code), stored)


def normalise_access_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")
