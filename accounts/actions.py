"""Writes about sign-in credentials: two-factor enrolment and checks, recovery codes, API tokens.
Each records a SecurityEvent; none stores a secret in plain text."""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from core import ratelimit
from core.errors import ValidationError
from core.secrets import hash_secret, verify_secret

from . import selectors, throttle, totp
from .choices import Scope, SecurityEventKind
from .models import ApiToken, RecoveryCode, SecurityEvent, TotpDevice, User


class SecondStepLocked(Exception):
    def __init__(self, minutes_left: int) -> None:
        self.minutes_left = minutes_left
        super().__init__(f"second step locked for {minutes_left} minutes")


def record(
    kind: str, *, request: HttpRequest | None = None, user: User | None = None, username: str = "", **detail: Any
) -> SecurityEvent:
    address = ratelimit.client_address(request) if request is not None else ""
    return SecurityEvent.objects.create(
        kind=kind,
        user=user if user is not None and user.pk else None,
        username=(username or (user.get_username() if user is not None else ""))[:150],
        address=address[:64],
        detail=detail,
    )


# --- two-factor -------------------------------------------------------------------------------


def start_enrolment(user: User) -> tuple[TotpDevice, str]:
    """A new, unconfirmed device with a fresh secret; earlier unconfirmed ones are dropped."""
    with transaction.atomic():
        TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).delete()
        secret = totp.new_secret()
        device = TotpDevice.objects.create(user=user, secret_encrypted=totp.seal(user.pk, secret))
    return device, secret


def device_secret(device: TotpDevice) -> str | None:
    opened = totp.open_sealed(device.user_id, device.secret_encrypted)
    if opened is None:
        return None
    secret, with_fallback = opened
    if with_fallback:  # sealed under a retired SECRET_KEY: seal it under the current one
        device.secret_encrypted = totp.seal(device.user_id, secret)
        TotpDevice.objects.filter(pk=device.pk).update(secret_encrypted=device.secret_encrypted)
    return secret


def check_code_format(code: str) -> str:
    code = "".join(code.split())
    if not code:
        raise ValidationError("code", _("请输入验证码。"))
    return code


def confirm_enrolment(user: User, device_id: int, code: str, *, request: HttpRequest) -> list[str]:
    """Confirm the device with a code from the app: it replaces any earlier device, the recovery codes
    are renewed, and the raw codes are returned once."""
    code = check_code_format(code)
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(pk=device_id, user=user).first()
        if device is None or device.confirmed_at is not None:
            raise ValidationError("code", _("该验证器的登记已失效，请重新开始。"))
        secret = device_secret(device)
        step = totp.matching_step(secret, code, device.last_step) if secret else None
        if step is None:
            raise ValidationError("code", _("验证码不正确，请查看验证器应用中的当前 6 位数字（注意手机时间须准确）。"))
        TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).delete()
        device.confirmed_at = timezone.now()
        device.last_step = step
        device.save(update_fields=["confirmed_at", "last_step"])
        codes = _renew_recovery_codes(user)
        record(SecurityEventKind.TWO_FACTOR_ENROLLED, request=request, user=user)
    return codes


def _renew_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = totp.new_recovery_codes()
    RecoveryCode.objects.bulk_create([RecoveryCode(user=user, code_hash=hash_secret(c)) for c in codes])
    return codes


def _use_recovery_code(user: User, code: str) -> bool:
    normalised = totp.normalise_recovery_code(code)
    for row in RecoveryCode.objects.filter(user=user, used_at__isnull=True):
        if verify_secret(normalised, row.code_hash):
            # The conditional update makes a code good for one use even under concurrent requests.
            return RecoveryCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=timezone.now()) == 1
    return False


def _check_second_factor(user: User, code: str) -> str | None:
    """'totp' or 'recovery' when the code is good (and is used up), else None. Runs in a transaction."""
    code = "".join(code.split())
    device = TotpDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        return None
    if code.isdigit():
        secret = device_secret(device)
        step = totp.matching_step(secret, code, device.last_step) if secret else None
        if step is None:
            return None
        TotpDevice.objects.filter(pk=device.pk).update(last_step=step)
        return "totp"
    return "recovery" if _use_recovery_code(user, code) else None


def verify_second_factor(user: User, code: str, *, request: HttpRequest, purpose: str = "login") -> str:
    """Check a code from the app or a recovery code. Raises SecondStepLocked past the failures allowed
    in the window, ValidationError({"code": …}) for a wrong code (counted). Returns how it passed."""
    code = check_code_format(code)
    lock = throttle.second_step_lock(user.pk)
    if lock is not None:
        raise SecondStepLocked(lock.minutes_left)
    with transaction.atomic():
        how = _check_second_factor(user, code)
        if how is not None:
            kind = SecurityEventKind.RECOVERY_CODE_USED if how == "recovery" else SecurityEventKind.TWO_FACTOR_PASSED
            record(kind, request=request, user=user, purpose=purpose, left=selectors.recovery_codes_left(user))
    if how is None:
        # Counted outside the transaction above, so that the count stays whatever happens next.
        throttle.count_second_step_failure(user.pk)
        record(SecurityEventKind.TWO_FACTOR_FAILED, request=request, user=user, purpose=purpose)
        raise ValidationError("code", _("验证码不正确或已使用过。"))
    throttle.second_step_succeeded(user.pk)
    return how


def disable_two_factor(user: User, code: str, *, request: HttpRequest) -> None:
    """Turn two-factor off (only where no role requires it), proven with a current code."""
    if selectors.two_factor_required(user):
        raise ValidationError("code", _("您的角色要求两步验证，不能停用；可以更换验证器。"))
    verify_second_factor(user, code, request=request, purpose="disable")
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        record(SecurityEventKind.TWO_FACTOR_DISABLED, request=request, user=user, by=user.get_username())


def begin_replacement(user: User, code: str, *, request: HttpRequest) -> tuple[TotpDevice, str]:
    """Start enrolling a new app, proven with a code of the current one (or a recovery code); the old
    device keeps working until the new one is confirmed."""
    verify_second_factor(user, code, request=request, purpose="replace")
    return start_enrolment(user)


def renew_recovery_codes(user: User, code: str, *, request: HttpRequest) -> list[str]:
    verify_second_factor(user, code, request=request, purpose="recovery_codes")
    with transaction.atomic():
        codes = _renew_recovery_codes(user)
        record(SecurityEventKind.RECOVERY_CODES_ISSUED, request=request, user=user)
    return codes


def reset_two_factor(user: User, *, by: User, request: HttpRequest | None = None) -> None:
    """An admin removes a user's device and codes (a lost phone); the user enrols again at the next
    sign-in if a role requires it."""
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        record(SecurityEventKind.TWO_FACTOR_DISABLED, request=request, user=user, by=by.get_username(), reset=True)


# --- API tokens -------------------------------------------------------------------------------


def check_token_request(name: str, scopes: Iterable[str], days: str | int | None) -> tuple[str, list[str], int]:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("请填写令牌名称，例如使用它的系统。")
    elif len(name) > 100:
        errors["name"] = _("过长：最多 100 个字符。")
    chosen = [s for s in Scope.values if s in set(scopes)]
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        errors["scopes"] = _("未知的权限范围：%(names)s。") % {"names": ", ".join(unknown)}
    elif not chosen:
        errors["scopes"] = _("请至少选择一项权限范围。")
    longest = int(settings.COMPLAINTDESK_API_TOKEN_MAX_DAYS)
    try:
        valid_days = int(str(days).strip())
    except (TypeError, ValueError):
        valid_days = 0
    if not 1 <= valid_days <= longest:
        errors["days"] = _("有效期应为 1 到 %(max)d 天。") % {"max": longest}
    if errors:
        raise ValidationError(errors)
    return name, chosen, valid_days


def issue_api_token(
    user: User, name: str, scopes: Iterable[str], days: str | int | None, *, request: HttpRequest | None = None
) -> tuple[ApiToken, str]:
    """A token for the user with the scopes chosen, expiring after `days`; the raw token is returned once."""
    name, chosen, valid_days = check_token_request(name, list(scopes), days)
    with transaction.atomic():
        token, raw = ApiToken.issue(user, name, chosen, expires_at=timezone.now() + timedelta(days=valid_days))
        record(
            SecurityEventKind.TOKEN_ISSUED,
            request=request,
            user=user,
            token=token.prefix,
            scopes=chosen,
            expires_at=token.expires_at.isoformat() if token.expires_at else None,
        )
    return token, raw


def revoke_api_token(user: User, token_id: int, *, request: HttpRequest | None = None) -> ApiToken | None:
    """Revoke one of the user's own tokens; None when it is not theirs."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
        if token is None:
            return None
        if not token.revoked:
            token.revoked = True
            token.save(update_fields=["revoked"])
            record(SecurityEventKind.TOKEN_REVOKED, request=request, user=user, token=token.prefix)
    return token
