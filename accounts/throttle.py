"""Sign-in throttling: failures are counted per username and per client address in fixed windows of
COMPLAINTDESK_LOGIN_LOCKOUT_MINUTES (core.ratelimit's counters, shared by every server process).
A username past COMPLAINTDESK_LOGIN_FAILURES_PER_USER failures, or an address past
COMPLAINTDESK_LOGIN_FAILURES_PER_ADDRESS, is refused until the window ends, even with the right
password; the second step counts its own failures per user (COMPLAINTDESK_2FA_FAILURES)."""

import time
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from core import ratelimit


@dataclass(frozen=True)
class Lock:
    by: str  # "user" or "address"
    minutes_left: int


def window_minutes() -> int:
    return max(1, int(settings.COMPLAINTDESK_LOGIN_LOCKOUT_MINUTES))


def minutes_left() -> int:
    """Minutes until the current window ends (the lock is lifted then)."""
    size = window_minutes()
    return size - int(time.time() // 60) % size


def user_key(username: str) -> str:
    return f"login-failure:{username.strip().lower()}"


def address_key(request: HttpRequest) -> str:
    # Per /64 for IPv6, as the public rate limits count (one host usually holds a whole /64).
    return f"login-failure-address:{ratelimit._bucket(ratelimit.client_address(request))}"


def second_step_key(user_id: int) -> str:
    return f"2fa-failure:{user_id}"


def login_lock(request: HttpRequest, username: str) -> Lock | None:
    size = window_minutes()
    if ratelimit.failures(user_key(username), size) >= settings.COMPLAINTDESK_LOGIN_FAILURES_PER_USER:
        return Lock("user", minutes_left())
    if ratelimit.failures(address_key(request), size) >= settings.COMPLAINTDESK_LOGIN_FAILURES_PER_ADDRESS:
        return Lock("address", minutes_left())
    return None


def count_login_failure(request: HttpRequest, username: str) -> bool:
    """Count a failure; True when this one reached a limit (the lock begins)."""
    size = window_minutes()
    by_user = ratelimit.count_failure(user_key(username), size)
    by_address = ratelimit.count_failure(address_key(request), size)
    return (
        by_user == settings.COMPLAINTDESK_LOGIN_FAILURES_PER_USER
        or by_address == settings.COMPLAINTDESK_LOGIN_FAILURES_PER_ADDRESS
    )


def login_succeeded(username: str) -> None:
    # The address's count stays: one right password must not reset a spraying address's budget.
    ratelimit.clear(user_key(username))


def second_step_lock(user_id: int) -> Lock | None:
    if ratelimit.failures(second_step_key(user_id), window_minutes()) >= settings.COMPLAINTDESK_2FA_FAILURES:
        return Lock("user", minutes_left())
    return None


def count_second_step_failure(user_id: int) -> None:
    ratelimit.count_failure(second_step_key(user_id), window_minutes())


def second_step_succeeded(user_id: int) -> None:
    ratelimit.clear(second_step_key(user_id))
