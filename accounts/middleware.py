"""Sign-in policy on every request (MIDDLEWARE, after the auth and messages middleware):

- ApiTokenScopes: an API request with a bearer token is refused when the token is expired or revoked
  (401) or lacks the scope the endpoint needs (403); the token auth then identifies the user.
- SessionExpiry: a staff session ends after COMPLAINTDESK_SESSION_IDLE_MINUTES without a request,
  or COMPLAINTDESK_SESSION_HOURS after its login.
- TwoFactorRequired: a session whose user must pass the second step (by role, or by choice) and has
  not reaches only the second-step pages until it does; to the API it is anonymous."""

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from core.http import json_response

from . import selectors, sessions
from .choices import SecurityEventKind
from .models import ApiToken, hash_token
from .scopes import API_PREFIX, required_scope

Handler = Callable[[HttpRequest], HttpResponse]


class ApiTokenScopes:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        if request.path.startswith(API_PREFIX) and header[:7].lower() == "bearer ":
            scope = required_scope(request.method or "GET", request.path)
            if scope is not None:
                refusal = self.refusal(header[7:].strip(), scope)
                if refusal is not None:
                    return refusal
        return self.get_response(request)

    @staticmethod
    def refusal(raw: str, scope: str) -> HttpResponse | None:
        token = ApiToken.objects.filter(key_hash=hash_token(raw)).only("scopes", "expires_at", "revoked").first()
        if token is None:
            return None  # unknown: the token auth answers 401
        if token.revoked or token.is_expired():
            code = "token_revoked" if token.revoked else "token_expired"
            message = _("该 API 令牌已被吊销。") if token.revoked else _("该 API 令牌已过期，请签发新令牌。")
            response = json_response({"error": code, "message": message}, status=401)
            response["WWW-Authenticate"] = f'Bearer error="invalid_token", error_description="{code}"'
            return response
        if not token.allows(scope):
            body = {
                "error": "insufficient_scope",
                "message": _("该 API 令牌没有此操作所需的权限范围“%(scope)s”。") % {"scope": scope},
                "required_scope": scope,
            }
            response = json_response(body, status=403)
            response["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{scope}"'
            return response
        return None


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _anonymous(request: HttpRequest) -> None:
    anonymous = AnonymousUser()
    request.user = anonymous

    async def auser() -> AnonymousUser:
        return anonymous

    request.auser = auser  # type: ignore[attr-defined]


class SessionExpiry:
    # The last-seen time is written at most this often (each write is a session save).
    TOUCH_SECONDS = 60

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        idle = int(settings.COMPLAINTDESK_SESSION_IDLE_MINUTES) * 60
        longest = int(settings.COMPLAINTDESK_SESSION_HOURS) * 3600
        if (idle or longest) and SESSION_KEY in request.session:
            now = int(time.time())
            seen = request.session.get(sessions.SEEN_AT)
            began = request.session.get(sessions.LOGIN_AT)
            if (idle and seen and now - seen > idle) or (longest and began and now - began > longest):
                self.expire(request, idle_out=bool(idle and seen and now - seen > idle))
            else:
                if began is None:
                    request.session[sessions.LOGIN_AT] = now
                if seen is None or now - seen >= self.TOUCH_SECONDS:
                    request.session[sessions.SEEN_AT] = now
        return self.get_response(request)

    @staticmethod
    def expire(request: HttpRequest, *, idle_out: bool) -> None:
        from .actions import record

        user = request.user
        record(SecurityEventKind.SESSION_EXPIRED, request=request, user=user, idle=idle_out)  # type: ignore[arg-type]
        request._cd_session_expired = True  # type: ignore[attr-defined]
        logout(request)
        if not _is_api(request):
            messages.info(
                request,
                _("您已较长时间未操作，已自动退出，请重新登录。")
                if idle_out
                else _("登录已超过最长时限，请重新登录。"),
            )


class TwoFactorRequired:
    # Reachable before the second step: signing in and out, the second-step pages, language, files.
    OPEN_PREFIXES = (
        "/staff/login/",
        "/staff/logout/",
        "/staff/account/2fa/",
        "/i18n/",
        "/oidc/",
        "/healthz",
        "/readyz",
    )

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            SESSION_KEY in request.session
            and not sessions.two_factor_passed(request)
            and request.user.is_authenticated
            and selectors.two_factor_needed(request.user)  # type: ignore[arg-type]
        ):
            if _is_api(request):
                _anonymous(request)  # a token still works; this session does not
            elif not request.path.startswith((*self.OPEN_PREFIXES, settings.STATIC_URL)):
                return self.second_step(request)
        return self.get_response(request)

    @staticmethod
    def second_step(request: HttpRequest) -> HttpResponse:
        device = selectors.confirmed_device(request.user)  # type: ignore[arg-type]
        target = reverse("two_factor_verify" if device is not None else "two_factor_setup")
        location = f"{target}?{urlencode({'next': request.get_full_path()})}" if request.method == "GET" else target
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = location
            return response
        return redirect(location)
