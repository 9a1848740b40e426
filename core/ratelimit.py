"""Rate limits for public endpoints, counted in the database so every server process shares them.
A limit per minute is a sliding window: the count of the current minute plus the previous minute's
count weighted by how much of it still lies within the last 60 seconds, so a burst across a minute
boundary is not let through twice. COMPLAINTDESK_RATELIMIT=off lifts them (load tests)."""

import ipaddress
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest

from .errors import RateLimited


def client_address(request: HttpRequest) -> str:
    """The client's address; X-Forwarded-For is believed only from configured trusted proxies."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    trusted = settings.COMPLAINTDESK_TRUSTED_PROXIES
    if not trusted or not _in_networks(remote, trusted):
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    # Walk from the nearest hop outwards; the first address that is not a trusted proxy is the client.
    for address in reversed(forwarded):
        if not _in_networks(address, trusted):
            return address
    return remote


def client_key(request: HttpRequest) -> str:
    """The client's address as the limits count it (an IPv6 client by its /64)."""
    return _bucket(client_address(request))


def _bucket(address: str) -> str:
    """IPv6 clients are counted per /64: one host usually holds a whole /64 of addresses."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return address


def _in_networks(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for net in networks:
        try:
            if ip in ipaddress.ip_network(net, strict=False):
                return True
        except ValueError:
            continue
    return False


def hit(scope: str, request: HttpRequest, per_minute: int) -> None:
    """Count a request; raise RateLimited past `per_minute` in the last sixty seconds (sliding)."""
    if not settings.COMPLAINTDESK_RATELIMIT:
        return
    now = time.time()
    window = int(now // 60)
    key = f"{scope}:{_bucket(client_address(request))}"[:120]
    with connection.cursor() as cursor:
        count = _bump(cursor, key, window)
        cursor.execute('SELECT "count" FROM core_ratecounter WHERE "key" = %s AND "window" = %s', [key, window - 1])
        row = cursor.fetchone()
    previous = row[0] if row else 0
    elapsed = (now % 60) / 60
    if count + previous * (1 - elapsed) > per_minute:
        raise RateLimited(retry_after=max(1, 60 - int(now % 60)))


def count_failure(key: str, window_minutes: int) -> int:
    """Count one failure under `key` in the current window of `window_minutes`; the count so far.
    Windows are numbered by their first minute, like the one-minute rate windows."""
    minute = int(time.time() // 60)
    window = minute - minute % window_minutes
    with connection.cursor() as cursor:
        return _bump(cursor, key[:120], window)


def _bump(cursor: Any, key: str, window: int) -> int:
    """Add one to the counter of `key` in `window`; the count now."""
    cursor.execute(
        'INSERT INTO core_ratecounter ("key", "window", "count") VALUES (%s, %s, 1) '
        'ON CONFLICT ("key", "window") DO UPDATE SET "count" = core_ratecounter."count" + 1 RETURNING "count"',
        [key, window],
    )
    return int(cursor.fetchone()[0])


def failures(key: str, window_minutes: int) -> int:
    from .models import RateCounter

    minute = int(time.time() // 60)
    row = RateCounter.objects.filter(key=key[:120], window=minute - minute % window_minutes).first()
    return row.count if row else 0


def clear(key: str) -> None:
    from .models import RateCounter

    RateCounter.objects.filter(key=key[:120]).delete()


def purge(before_window: int | None = None) -> int:
    from .models import RateCounter

    # An hour back: lockout windows (15 minutes) live in the same table.
    before_window = before_window or int(time.time() // 60) - 60
    deleted, _ = RateCounter.objects.filter(window__lt=before_window).delete()
    return deleted
