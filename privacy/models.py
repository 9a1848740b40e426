"""The log of personal-information requests (PIPL): who asked for what about whom, and how it ended.

Rows are written only by privacy.actions, in the transaction that carries the request out (or that
records its refusal), so the log and what happened never disagree."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import RequestKind, RequestStatus


class PrivacyRequest(models.Model):
    kind = models.CharField(_("类型"), max_length=10, choices=RequestKind.choices)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="privacy_requests", verbose_name=_("客户")
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Why (a correction's or an erasure's reason as the handler wrote it; for an export the format).
    reason = models.TextField(_("理由"), blank=True)
    status = models.CharField(_("结果"), max_length=10, choices=RequestStatus.choices)
    # Facts without personal data: the format, the fields corrected, the cases touched or blocking.
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("个人信息请求")
        verbose_name_plural = pgettext_lazy("plural", "个人信息请求")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.customer_id} {self.status}"
