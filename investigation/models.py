"""Coordination tasks to departments, the root-cause taxonomy, and the findings of the investigation.

Rows change only through investigation.actions: each change is one event in the case's ledger chain."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from complaints.choices import Nature

from .choices import FindingStatus, Responsibility, TaskKind, TaskStatus


class CoordinationTask(models.Model):
    """A request to a department (quality lab, logistics, billing, legal…) with a due date on the
    business calendar. An open blocking task keeps the case from being resolved."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="coordination_tasks")
    kind = models.CharField(_("任务类型"), max_length=30, choices=TaskKind.choices)
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("协办部门"), on_delete=models.PROTECT, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("协办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coordination_tasks",
    )
    request = models.TextField(_("协办要求"))
    due_at = models.DateTimeField(_("完成期限"))
    blocking = models.BooleanField(_("未完成时不得办结"), default=True)
    status = models.CharField(_("状态"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    result = models.TextField(_("办理结果"), blank=True)
    cancel_reason = models.TextField(_("取消理由"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    # Stamped once when the assignee and the case's owner were told the task is overdue.
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    attachments = models.ManyToManyField("evidence.Evidence", blank=True, related_name="coordination_tasks")

    class Meta:
        verbose_name = _("协办任务")
        verbose_name_plural = pgettext_lazy("plural", "协办任务")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["department", "status"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["complaint", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id}/{self.pk} {self.get_kind_display()}"

    def is_overdue(self, now=None) -> bool:  # type: ignore[no-untyped-def]
        return self.status == TaskStatus.OPEN and self.due_at < (now or timezone.now())


class RootCause(models.Model):
    """The root-cause taxonomy of findings. Data, editable by admins (deactivate, never delete)."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("根本原因")
        verbose_name_plural = pgettext_lazy("plural", "根本原因")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class Finding(models.Model):
    """What the investigation established. A valid complaint takes effect at once; unfounded or
    malicious needs a justification, evidence and a supervisor (not the author) to confirm it."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="findings")
    facts = models.TextField(_("核实的事实"))
    root_cause = models.ForeignKey(RootCause, verbose_name=_("根本原因"), on_delete=models.PROTECT, related_name="+")
    responsibility = models.CharField(_("责任方"), max_length=20, choices=Responsibility.choices)
    nature = models.CharField(_("投诉性质"), max_length=10, choices=Nature.choices)
    justification = models.TextField(_("认定理由"), blank=True)
    evidence = models.ManyToManyField("evidence.Evidence", blank=True, related_name="findings")
    status = models.CharField(_("状态"), max_length=12, choices=FindingStatus.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(_("确认意见"), blank=True)

    class Meta:
        verbose_name = _("调查结论")
        verbose_name_plural = pgettext_lazy("plural", "调查结论")
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["complaint", "status"])]

    def __str__(self) -> str:
        return f"{self.complaint_id}/{self.pk} {self.nature}"
