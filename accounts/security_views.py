"""The second sign-in step, two-factor enrolment, and the account security page (the user's own
authenticator, recovery codes and API tokens)."""

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ValidationError

from . import actions, selectors, sessions, totp
from .choices import Scope
from .models import User


def _next(request: HttpRequest) -> str:
    """Where to go after the step: the `next` asked for if it is on this site, else the staff home."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _passed(request: HttpRequest) -> None:
    sessions.mark_two_factor_passed(request)
    request.session.cycle_key()  # a new session id for the fully signed-in session


@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    user: User = request.user  # type: ignore[assignment]
    next_url = _next(request)
    if sessions.two_factor_passed(request):
        return redirect(next_url)
    if selectors.confirmed_device(user) is None:
        return redirect(_with_next("two_factor_setup", next_url))
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            how = actions.verify_second_factor(user, request.POST.get("code", ""), request=request)
        except actions.SecondStepLocked as locked:
            errors["code"] = _("验证码错误次数过多，请 %(minutes)d 分钟后再试。") % {"minutes": locked.minutes_left}
            status = 429
        except ValidationError as invalid:
            errors, status = {k: str(v) for k, v in invalid.errors.items()}, 422
        else:
            _passed(request)
            if how == "recovery":
                left = selectors.recovery_codes_left(user)
                messages.warning(
                    request,
                    _("您使用了一个恢复码，还剩 %(left)d 个。用完前请在“账户安全”中重新生成。") % {"left": left},
                )
            return redirect(next_url)
    return render(request, "accounts/two_factor_verify.html", {"errors": errors, "next": next_url}, status=status)


@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code (or type the key), confirm with a code, keep the
    recovery codes. With an app already in use, only a replacement begun on the security page (which
    asks for a code of the current app) is shown here."""
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    user: User = request.user  # type: ignore[assignment]
    next_url = _next(request)
    confirmed = selectors.confirmed_device(user)
    if confirmed is not None and not sessions.two_factor_passed(request):
        return redirect(_with_next("two_factor_verify", next_url))
    pending = selectors.pending_device(user)
    if confirmed is not None and pending is None:
        return redirect("account_security")
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST" and pending is not None:
        try:
            codes = actions.confirm_enrolment(user, pending.pk, request.POST.get("code", ""), request=request)
        except ValidationError as invalid:
            errors, status = {k: str(v) for k, v in invalid.errors.items()}, 422
        else:
            _passed(request)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": next_url, "enrolled": True})
    if pending is None:
        pending, secret = actions.start_enrolment(user)
    else:
        secret = actions.device_secret(pending) or ""
        if not secret:  # sealed under a key no longer known: start over
            pending, secret = actions.start_enrolment(user)
    uri = totp.provisioning_uri(secret, user.get_username())
    context = {
        "qr": totp.qr_svg(uri),
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "errors": errors,
        "next": next_url,
        "required": selectors.two_factor_required(user),
        "replacing": confirmed is not None,
    }
    return render(request, "accounts/two_factor_setup.html", context, status=status)


# --- the account security page -------------------------------------------------------------------


def _security_page(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    from complaints.permissions import Principal

    context = {
        "required": selectors.two_factor_required(user),
        "device": selectors.confirmed_device(user),
        "codes_left": selectors.recovery_codes_left(user),
        "tokens": selectors.tokens_of(user),
        "scopes": Scope.choices,
        "can_issue": bool(Principal.of(user).roles),
        "default_days": settings.COMPLAINTDESK_API_TOKEN_DAYS or settings.COMPLAINTDESK_API_TOKEN_MAX_DAYS,
        "max_days": settings.COMPLAINTDESK_API_TOKEN_MAX_DAYS,
        "errors": {},
        "values": {},
        "chosen": [],
        **extra,
    }
    return render(request, "accounts/security.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def account_security(request: HttpRequest) -> HttpResponse:
    return _security_page(request)


def _code_errors(invalid: ValidationError, form: str) -> dict[str, str]:
    return {f"{form}_{k}": str(v) for k, v in invalid.errors.items()}


@login_required
@require_POST
def replace_device(request: HttpRequest) -> HttpResponse:
    try:
        actions.begin_replacement(request.user, request.POST.get("code", ""), request=request)  # type: ignore[arg-type]
    except actions.SecondStepLocked as locked:
        message = _("验证码错误次数过多，请 %(minutes)d 分钟后再试。") % {"minutes": locked.minutes_left}
        return _security_page(request, 429, errors={"replace_code": message})
    except ValidationError as invalid:
        return _security_page(request, 422, errors=_code_errors(invalid, "replace"))
    return redirect("two_factor_setup")


@login_required
@require_POST
def disable_two_factor(request: HttpRequest) -> HttpResponse:
    try:
        actions.disable_two_factor(request.user, request.POST.get("code", ""), request=request)  # type: ignore[arg-type]
    except actions.SecondStepLocked as locked:
        message = _("验证码错误次数过多，请 %(minutes)d 分钟后再试。") % {"minutes": locked.minutes_left}
        return _security_page(request, 429, errors={"disable_code": message})
    except ValidationError as invalid:
        return _security_page(request, 422, errors=_code_errors(invalid, "disable"))
    messages.success(request, _("两步验证已停用。"))
    return redirect("account_security")


@login_required
@require_POST
def renew_recovery_codes(request: HttpRequest) -> HttpResponse:
    try:
        codes = actions.renew_recovery_codes(request.user, request.POST.get("code", ""), request=request)  # type: ignore[arg-type]
    except actions.SecondStepLocked as locked:
        message = _("验证码错误次数过多，请 %(minutes)d 分钟后再试。") % {"minutes": locked.minutes_left}
        return _security_page(request, 429, errors={"codes_code": message})
    except ValidationError as invalid:
        return _security_page(request, 422, errors=_code_errors(invalid, "codes"))
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "next": reverse("account_security"), "enrolled": False},
    )


@login_required
@require_POST
def issue_token(request: HttpRequest) -> HttpResponse:
    from complaints.permissions import Principal

    user: User = request.user  # type: ignore[assignment]
    if not Principal.of(user).roles:
        return _security_page(request, 403, errors={"name": _("没有任何角色的账户不能签发 API 令牌。")})
    try:
        token, raw = actions.issue_api_token(
            user,
            request.POST.get("name", ""),
            request.POST.getlist("scopes"),
            request.POST.get("days"),
            request=request,
        )
    except ValidationError as invalid:
        values = {"name": request.POST.get("name", ""), "days": request.POST.get("days", "")}
        chosen = request.POST.getlist("scopes")
        return _security_page(request, 422, errors=invalid.errors, values=values, chosen=chosen)
    return _security_page(request, new_token=raw, new_token_record=token)


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    token = actions.revoke_api_token(request.user, token_id, request=request)  # type: ignore[arg-type]
    if token is None:
        raise Http404
    messages.success(request, _("令牌 %(prefix)s… 已吊销。") % {"prefix": token.prefix})
    return redirect("account_security")
