"""Single sign-on through OpenID Connect (mozilla-django-oidc), switched on by COMPLAINTDESK_OIDC.

A staff member is matched by the claim COMPLAINTDESK_OIDC_USERNAME_CLAIM (preferred_username by
default) to the user of that username; unknown people are refused unless
COMPLAINTDESK_OIDC_CREATE_USERS is on (they then start without any role). The id_token's issuer and
audience are checked as well as its signature, expiry and nonce. Two-factor still applies, unless
the provider says it did multi-factor itself (an `amr` claim of mfa, otp or hwk) and
COMPLAINTDESK_OIDC_TRUST_MFA is on."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from . import sessions
from .models import User

logger = logging.getLogger("complaintdesk.security")
MFA_METHODS = frozenset({"mfa", "otp", "hwk"})


class OidcBackend(OIDCAuthenticationBackend):
    def _username(self, claims: dict[str, Any]) -> str:
        return str(claims.get(settings.COMPLAINTDESK_OIDC_USERNAME_CLAIM) or "").strip()

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(self._username(claims))

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        username = self._username(claims)
        return self.UserModel.objects.filter(username=username) if username else self.UserModel.objects.none()

    def create_user(self, claims: dict[str, Any]) -> User:
        user = self.UserModel(
            username=self._username(claims)[:150],
            email=str(claims.get("email") or "")[:254],
            first_name=str(claims.get("given_name") or "")[:150],
            last_name=str(claims.get("family_name") or "")[:150],
        )
        user.set_unusable_password()
        user.save()
        return user

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User | None:
        issuer = settings.COMPLAINTDESK_OIDC_ISSUER
        if issuer and payload.get("iss") != issuer:
            raise SuspiciousOperation("id_token from another issuer")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("id_token for another client")
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is not None and self.request is not None:
            methods = payload.get("amr") or []
            self.request._cd_oidc_mfa = bool(MFA_METHODS.intersection(methods if isinstance(methods, list) else []))  # type: ignore[attr-defined]
        return user


def _enabled() -> None:
    if not settings.COMPLAINTDESK_OIDC:
        raise Http404


class OidcStart(OIDCAuthenticationRequestView):
    def get(self, request: HttpRequest) -> HttpResponse:
        _enabled()
        return super().get(request)


class OidcCallback(OIDCAuthenticationCallbackView):
    def get(self, request: HttpRequest) -> HttpResponse:
        _enabled()
        try:
            return super().get(request)
        except SuspiciousOperation as refused:
            # A forged or foreign id_token, a replayed state: the person is sent back to the login
            # page with the single sign-on failure message, and the reason goes to the log.
            logger.warning("single sign-on refused: %s", refused)
            return self.login_failure()

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        if settings.COMPLAINTDESK_OIDC_TRUST_MFA and getattr(self.request, "_cd_oidc_mfa", False):
            sessions.mark_two_factor_passed(self.request)
        return response
