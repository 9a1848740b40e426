"""Sign-in bookkeeping for every way in (the staff login, the admin site, single sign-on): the session
learns when it began, failures are counted for the lockout, and each event is recorded."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from . import sessions, throttle
from .choices import SecurityEventKind
from .models import User


@receiver(user_logged_in, dispatch_uid="accounts.logged_in")
def logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    from .actions import record

    if request is None or not hasattr(request, "session"):
        return
    sessions.started(request)
    throttle.login_succeeded(user.get_username())
    backend = getattr(user, "backend", "") or ""
    record(SecurityEventKind.LOGIN, request=request, user=user, backend=backend.rsplit(".", 1)[-1])


@receiver(user_login_failed, dispatch_uid="accounts.login_failed")
def login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    from .actions import record

    username = str(credentials.get("username") or "")
    if request is None or not username:
        return  # not a sign-in form (an API token, a test's client.login)
    if throttle.login_lock(request, username) is not None:
        return  # refused by the lock: neither counted again nor recorded once more
    user = User.objects.filter(username=username).first()
    if throttle.count_login_failure(request, username):
        record(SecurityEventKind.LOGIN_LOCKED, request=request, user=user, username=username)
    record(SecurityEventKind.LOGIN_FAILED, request=request, user=user, username=username)


@receiver(user_logged_out, dispatch_uid="accounts.logged_out")
def logged_out(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    from .actions import record

    if request is None or user is None or getattr(request, "_cd_session_expired", False):
        return
    record(SecurityEventKind.LOGOUT, request=request, user=user)
