from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReportSubscription(models.Model):
    """A user's standing order for a report, mailed on the first working day after each period."""

    class Kind(models.TextChoices):
        MONTHLY = "monthly", _("月报")
        QUARTERLY = "quarterly", _("季报")

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        XLSX = "xlsx", "Excel"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscriptions")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    org_unit = models.ForeignKey("accounts.OrgUnit", null=True, blank=True, on_delete=models.CASCADE)
    department = models.ForeignKey("accounts.Department", null=True, blank=True, on_delete=models.CASCADE)
    format = models.CharField(_("格式"), max_length=5, choices=Format.choices, default=Format.PDF)
    language = models.CharField(_("语言"), max_length=10, default="zh-hans")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One active subscription per user, kind, scope, format and language: a second would mail
            # the same report twice. The scope's empty unit/department count as equal (Coalesce:
            # NULLs never clash in a plain unique index).
            models.UniqueConstraint(
                "user",
                "kind",
                Coalesce("org_unit", 0),
                Coalesce("department", 0),
                "format",
                "language",
                condition=models.Q(active=True),
                name="reports_one_active_subscription",
            )
        ]


class SentReport(models.Model):
    """One period's report mailed to one subscription: the job sends each period once."""

    subscription = models.ForeignKey(ReportSubscription, on_delete=models.CASCADE, related_name="sent")
    period = models.CharField(max_length=10)  # 2026-10 or 2026-Q4
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscription", "period"], name="reports_sent_once")]
