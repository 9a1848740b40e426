"""Reads about sign-in: who must use two-factor, a user's device, codes and tokens."""

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from .models import ApiToken, RecoveryCode, TotpDevice, User


def required_roles() -> set[str]:
    return set(getattr(settings, "COMPLAINTDESK_2FA_REQUIRED_ROLES", ()))


def two_factor_required(user: User) -> bool:
    """Whether the user's roles make two-factor mandatory (admin and legal/PR by default; superusers
    always, since they can change everything)."""
    if user.is_superuser:
        return True
    from complaints.permissions import Principal  # the view reads the same (cached) roles

    return bool(Principal.of(user).roles & required_roles())


def confirmed_device(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def pending_device(user: User) -> TotpDevice | None:
    """The newest device being enrolled (not confirmed yet), within the last hour."""
    since = timezone.now() - timedelta(hours=1)
    return (
        TotpDevice.objects.filter(user=user, confirmed_at__isnull=True, created_at__gte=since)
        .order_by("-created_at", "-id")
        .first()
    )


def two_factor_needed(user: User) -> bool:
    """Whether this user's session must pass the second step: required by role, or chosen (enrolled)."""
    return two_factor_required(user) or TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("revoked", "-created_at")
