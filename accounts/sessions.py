"""What a staff session records about its sign-in: when it began, when it was last used, and whether
the second factor was passed. Set at login (accounts.signals), read by accounts.middleware."""

import time

from django.http import HttpRequest

# Unix time of the login, of the last request, and of the passed second step (absent: not passed).
LOGIN_AT = "cd_login_at"
SEEN_AT = "cd_seen_at"
TWO_FACTOR_AT = "cd_2fa_at"


def started(request: HttpRequest) -> None:
    now = int(time.time())
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now


def mark_two_factor_passed(request: HttpRequest) -> None:
    request.session[TWO_FACTOR_AT] = int(time.time())


def two_factor_passed(request: HttpRequest) -> bool:
    return TWO_FACTOR_AT in request.session
