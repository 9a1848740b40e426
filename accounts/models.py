"""People and organisation: staff users with roles, departments, and the org-unit tree."""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import ALL_SCOPES, OrgUnitKind, Role, Scope, SecurityEventKind


class Department(models.Model):
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    # The department that receives complaints no routing rule matches.
    is_default = models.BooleanField(_("默认受理部门"), default=False)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = pgettext_lazy("plural", "部门")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class OrgUnit(models.Model):
    """A node of the organisation tree: company → region → store/branch."""

    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=20, choices=OrgUnitKind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # Materialised path "/1/4/9/" so that a subtree is one indexed prefix query.
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    province_code = models.CharField(_("省级代码"), max_length=6, blank=True)
    city_code = models.CharField(_("市级代码"), max_length=6, blank=True)
    district_code = models.CharField(_("县级代码"), max_length=6, blank=True)

    class Meta:
        verbose_name = _("组织单元")
        verbose_name_plural = pgettext_lazy("plural", "组织单元")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().save(*args, **kwargs)
        parent_path = self.parent.path if self.parent_id else "/"
        new_path = f"{parent_path}{self.pk}/"
        if new_path != self.path:
            moved = bool(self.path)
            OrgUnit.objects.filter(pk=self.pk).update(path=new_path)
            self.path = new_path
            if moved:
                for child in self.children.all():
                    child.save()

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.pk and self.parent_id and self.parent.path.startswith(self.path or "\0"):
            raise ValidationError({"parent": _("上级单元不能是本单元或其下级。")})


class User(AbstractUser):
    """A staff user. Consumers are not users: they reach their case with tracking number + access code."""

    given_name = models.CharField(
        _("对外称呼"), max_length=50, blank=True, help_text=_("投诉人可见的经办人称呼，例如“王女士”。")
    )
    language = models.CharField(_("语言"), max_length=10, default="zh-hans")
    # Routing assigns new cases only to agents who are available and inside their working hours.
    is_available = models.BooleanField(_("可接单"), default=True)
    work_start = models.TimeField(_("上班时间"), default=time(9, 0))
    work_end = models.TimeField(_("下班时间"), default=time(17, 30))

    class Meta:
        verbose_name = _("员工")
        verbose_name_plural = pgettext_lazy("plural", "员工")

    def public_name(self) -> str:
        return self.given_name or self.first_name or _("经办人")


class Membership(models.Model):
    """One role of a user, scoped to a department or an org unit where the role needs one."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.CASCADE)
    org_unit = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = pgettext_lazy("plural", "角色分配")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "department", "org_unit"], name="membership_unique")
        ]

    def __str__(self) -> str:
        scope = self.department or self.org_unit or ""
        return f"{self.user} · {self.get_role_display()} {scope}".strip()


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A token for integrations. Only its SHA-256 is stored; the raw token is shown once. It carries
    scopes (accounts.choices.Scope, enforced by accounts.middleware.ApiTokenScopes) and an expiry."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # Space-separated Scope values, e.g. "read write".
    scopes = models.CharField(_("权限范围"), max_length=100, default=" ".join(ALL_SCOPES))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.BooleanField(_("已吊销"), default=False)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = pgettext_lazy("plural", "API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split() if s in Scope.values]

    def allows(self, scope: str) -> bool:
        return scope in self.scope_list

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @classmethod
    def issue(
        cls, user: User, name: str, scopes: Iterable[str] = ALL_SCOPES, expires_at: datetime | None = None
    ) -> tuple["ApiToken", str]:
        """A new token, expiring at `expires_at` or else after COMPLAINTDESK_API_TOKEN_DAYS: a token never
        lives for ever. People get theirs through accounts.actions.issue_api_token (the security page,
        `create_api_token`), which checks the input and chooses the expiry."""
        if expires_at is None:
            days = int(settings.COMPLAINTDESK_API_TOKEN_DAYS) or int(settings.COMPLAINTDESK_API_TOKEN_MAX_DAYS)
            expires_at = timezone.now() + timedelta(days=days)
        raw = "cd_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            prefix=raw[:8],
            key_hash=hash_token(raw),
            scopes=" ".join(s for s in Scope.values if s in set(scopes)),
            expires_at=expires_at,
        )
        return token, raw


class TotpDevice(models.Model):
    """A TOTP authenticator app of a user (RFC 6238: 6 digits, 30-second steps). The secret is stored
    encrypted (accounts.totp); a device counts once confirmed with a code, and a user has at most one
    confirmed device (confirming a new one replaces the old)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="totp_devices")
    secret_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(_("启用时间"), null=True, blank=True, editable=False)
    # The time step of the last code accepted: each code is accepted once (no replay within its window).
    last_step = models.BigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("两步验证器")
        verbose_name_plural = pgettext_lazy("plural", "两步验证器")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(confirmed_at__isnull=False), name="totp_one_confirmed_device"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · TOTP"


class RecoveryCode(models.Model):
    """A one-time code that stands in for the authenticator app (salted hash only; core.secrets)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=100, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)


class SecurityEvent(models.Model):
    """Sign-in and credential events, append-only: who, what, when, from which address."""

    created_at = models.DateTimeField(_("时间"), default=timezone.now, editable=False)
    kind = models.CharField(_("事件"), max_length=30, choices=SecurityEventKind.choices)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="security_events")
    # The username as typed (failed logins name no user) or of the user at the time.
    username = models.CharField(_("用户名"), max_length=150, blank=True)
    address = models.CharField(_("地址"), max_length=64, blank=True)
    # Other facts: the backend, the token's prefix and scopes, who reset a device … never a secret.
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("安全事件")
        verbose_name_plural = pgettext_lazy("plural", "安全事件")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at"]), models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.kind} {self.username}"


class Notification(models.Model):
    """An in-app notice for a staff user (SLA warnings and breaches, assignments)."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    complaint = models.ForeignKey("complaints.Complaint", null=True, blank=True, on_delete=models.CASCADE)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"])]


class SavedView(models.Model):
    """A queue filter a staff user named and keeps (the query string of the queue page)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("名称"), max_length=60)
    query = models.CharField(max_length=500)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_view_unique_name")]

    def __str__(self) -> str:
        return self.name


class Delegation(models.Model):
    """Out of office: from `starts_on` to `ends_on` (inclusive) `delegate` works `user`'s cases, and
    routing gives `user` no new ones."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="delegations")
    delegate = models.ForeignKey(User, on_delete=models.CASCADE, related_name="delegated_to_me")
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_on"]

    def __str__(self) -> str:
        return f"{self.user} → {self.delegate} {self.starts_on}–{self.ends_on}"

    @classmethod
    def active(cls, day: "date | None" = None) -> models.QuerySet["Delegation"]:
        day = day or timezone.localdate()
        return cls.objects.filter(starts_on__lte=day, ends_on__gte=day, user__is_active=True)
