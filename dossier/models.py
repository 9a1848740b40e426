"""External procedures (mediation, arbitration, litigation, regulator referral) with the documents
exchanged, and the crisis checklist of a case at escalation level 3 with its media contact log.

Every row here is written by an action in dossier.actions (or complaints.actions.route_external /
record_external_outcome) under the case's row lock, with one ledger event each."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from complaints.choices import ExternalRoute

from .choices import Decision, DocumentDirection


class ExternalProceeding(models.Model):
    """One external route of a case, from the referral to the outcome. While it is open the case is
    `external` (its SLA clock paused)."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="proceedings")
    route = models.CharField(_("外部途径"), max_length=20, choices=ExternalRoute.choices)
    # The consumer association, arbitration commission, court or market-regulation bureau.
    body = models.CharField(_("受理机构"), max_length=200, blank=True)
    reference = models.CharField(_("案号/编号"), max_length=100, blank=True)
    # The date the body set (required for a regulator referral: it is the case's regulator_due_at).
    due_at = models.DateTimeField(_("期限"), null=True, blank=True)
    opened_at = models.DateTimeField(_("转出时间"), default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome_text = models.TextField(_("结果说明"), blank=True)
    decision = models.CharField(_("结论"), max_length=20, choices=Decision.choices, blank=True)
    amount = models.DecimalField(_("裁决/调解金额"), max_digits=14, decimal_places=2, null=True, blank=True)
    # Whether the outcome resolved the complaint (else the case went back to in_progress).
    resolved = models.BooleanField(null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("外部程序")
        verbose_name_plural = pgettext_lazy("plural", "外部程序")
        ordering = ["opened_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_route_display()} {self.reference}".strip()

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ExternalDocument(models.Model):
    """A document exchanged in an external procedure; its file is an evidence item of the case."""

    proceeding = models.ForeignKey(ExternalProceeding, on_delete=models.PROTECT, related_name="documents")
    evidence = models.OneToOneField("evidence.Evidence", on_delete=models.PROTECT, related_name="external_document")
    direction = models.CharField(_("方向"), max_length=10, choices=DocumentDirection.choices)
    exchanged_on = models.DateField(_("日期"))
    description = models.CharField(_("说明"), max_length=500)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("外部程序文书")
        verbose_name_plural = pgettext_lazy("plural", "外部程序文书")
        ordering = ["exchanged_on", "id"]


class CrisisChecklist(models.Model):
    """What the crisis team must have done before a level-3 case may be de-escalated: facts verified,
    a statement approved by legal/PR (not by the person who drafted it), media contacts logged."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="crisis_checklists")
    opened_at = models.DateTimeField(default=timezone.now)
    # The risk flags that opened it (empty when the case reached level 3 by hand or by the SLA).
    flags = models.JSONField(default=list, blank=True)
    facts_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    facts_verified_at = models.DateTimeField(_("事实核实时间"), null=True, blank=True)
    facts_note = models.TextField(_("核实情况"), blank=True)
    statement_text = models.TextField(_("对外声明"), blank=True)
    statement_drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    statement_drafted_at = models.DateTimeField(null=True, blank=True)
    statement_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    statement_approved_at = models.DateTimeField(_("声明批准时间"), null=True, blank=True)
    media_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    media_confirmed_at = models.DateTimeField(_("媒体联络登记完毕时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("危机处理清单")
        verbose_name_plural = pgettext_lazy("plural", "危机处理清单")
        ordering = ["opened_at", "id"]

    @property
    def missing(self) -> list[str]:
        """The items still open, as labels (empty when complete)."""
        items = []
        if self.facts_verified_at is None:
            items.append(str(_("事实已核实")))
        if self.statement_approved_at is None:
            items.append(str(_("对外声明已由法务/公关批准")))
        if self.media_confirmed_at is None:
            items.append(str(_("媒体联络已登记")))
        return items


class MediaContact(models.Model):
    """One contact with the press about a crisis case."""

    checklist = models.ForeignKey(CrisisChecklist, on_delete=models.PROTECT, related_name="media_contacts")
    outlet = models.CharField(_("媒体"), max_length=200)
    person = models.CharField(_("联系人"), max_length=100, blank=True)
    contacted_at = models.DateTimeField(_("联系时间"))
    summary = models.TextField(_("内容摘要"))
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    logged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("媒体联络")
        verbose_name_plural = pgettext_lazy("plural", "媒体联络")
        ordering = ["contacted_at", "id"]
