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


class RetentionRun(models.Model):
    """One run of retention (`complaintdesk retention`, the daily job privacy_retention): the
    `retention_run` event. Written once, at the end of a run, in a hash chain of its own (each run
    carries the SHA-256 of the previous one, privacy.retention.verify_runs): the ledger's case chains
    have no place for an event about no case. No personal data: the as-of instant, the period and
    the counts; each case anonymised carries an `erase_personal` event naming the run (`id`) in its
    own chain. A run that crashed has anonymised what it committed, and no row."""

    id = models.UUIDField(primary_key=True, editable=False)
    seq = models.PositiveIntegerField(unique=True)
    action = models.CharField(max_length=30, default="retention_run", editable=False)
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), default=timezone.now, db_index=True)
    # The instant retention was measured from, and the period (days) in force.
    as_of = models.DateTimeField(_("基准时间"))
    retention_days = models.PositiveIntegerField(_("保存天数"))
    # "command" (an operator) or "schedule" (the daily job), and who ran it ("system", or a username).
    trigger = models.CharField(max_length=10)
    actor = models.CharField(max_length=150)
    # {"customers", "cases", "held", "remaining", "keys_shredded", "records": {...}} — counts only.
    counts = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("保存期限清理")
        verbose_name_plural = pgettext_lazy("plural", "保存期限清理")
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"retention run {self.seq} {self.as_of:%Y-%m-%d}"
