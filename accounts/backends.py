"""Authentication backends: the throttle that stands before every password check, and the single
sign-on backends (OpenID Connect, LDAP) as the settings switch them on (docs/security.md)."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from . import throttle


class LoginThrottle:
    """First in AUTHENTICATION_BACKENDS: a locked username or address is refused before any backend
    checks a password, whichever form asked (the staff login, the admin site's, LDAP through them).
    The staff login page checks first and explains the lock; failures are counted by
    accounts.signals from `user_login_failed`. No `get_user`: it never signs anyone in."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, **credentials: Any) -> None:
        if request is not None and username is not None and throttle.login_lock(request, username) is not None:
            raise PermissionDenied("login locked")
        return None
