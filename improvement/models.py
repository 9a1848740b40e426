"""Improvement plans (CAPA) with their own history, and the case library (DESIGN.md §9)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import PlanAction, PlanSource, PlanStatus


class ImprovementPlan(models.Model):
    """A root cause found in a cluster of complaints, tied to an action, an owner, a due date and an
    expected effect; the effect is measured from the complaint rate of its scope."""

    title = models.CharField(_("标题"), max_length=200)
    root_cause = models.ForeignKey(
        "investigation.RootCause", verbose_name=_("根本原因"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.TextField(_("改进措施"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("负责人"), on_delete=models.PROTECT, related_name="improvement_plans"
    )
    due_date = models.DateField(_("完成期限"))
    expected_effect = models.TextField(_("预期效果"), blank=True)
    expected_reduction = models.PositiveSmallIntegerField(_("预期降幅（%）"), default=0)
    # The scope the plan targets: the complaints whose rate it should lower. Empty = every complaint.
    category = models.ForeignKey(
        "complaints.Category", verbose_name=_("类别"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    product_sku = models.CharField(_("SKU"), max_length=64, blank=True)
    org_unit = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("组织单元"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("状态"), max_length=12, choices=PlanStatus.choices, default=PlanStatus.OPEN)
    source = models.CharField(_("来源"), max_length=10, choices=PlanSource.choices, default=PlanSource.CASES)
    spike_alert = models.ForeignKey(
        "intelligence.SpikeAlert", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    complaints = models.ManyToManyField("complaints.Complaint", blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    completion_note = models.TextField(_("完成说明"), blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("改进计划")
        verbose_name_plural = _("改进计划")
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["status", "due_date"]), models.Index(fields=["owner", "status"])]

    def __str__(self) -> str:
        return self.title


class PlanEvent(models.Model):
    """The plan's audit trail: who created, changed or completed it, and what changed."""

    plan = models.ForeignKey(ImprovementPlan, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=PlanAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    changes = models.JSONField(default=dict)  # {field: [before, after]}

    class Meta:
        ordering = ["at", "pk"]


class LibraryEntry(models.Model):
    """An exemplary closed case, copied and anonymised: the entry never changes the case, and the case's
    later changes never reach the entry."""

    source_complaint = models.OneToOneField(
        "complaints.Complaint", null=True, blank=True, on_delete=models.SET_NULL, related_name="library_entry"
    )
    title = models.CharField(_("标题"), max_length=200)
    category = models.ForeignKey(
        "complaints.Category", verbose_name=_("类别"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField(_("案情"))
    handling = models.TextField(_("处理经过"), blank=True)
    outcome = models.CharField(_("处理结果"), max_length=100, blank=True)
    remedies = models.JSONField(default=list)  # remedy kind labels
    lessons = models.TextField(_("经验教训"))
    tags = models.JSONField(_("标签"), default=list)
    received_month = models.CharField(max_length=7, blank=True)  # "2026-05": when, without the day
    search_text = models.TextField(default="", editable=False)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("案例库条目")
        verbose_name_plural = _("案例库")
        ordering = ["-added_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class LibraryEvent(models.Model):
    """The library's audit trail: who added or removed which entry, when and why. Kept after the entry
    is gone (entry_id and the title are copies, not a foreign key); holds no personal data, since the
    title is the anonymised one."""

    class Action(models.TextChoices):
        ADDED = "added", _("已收入")
        REMOVED = "removed", _("已移除")
        ERASED = "erased", _("因删除个人信息而移除")

    entry_id = models.BigIntegerField()
    title = models.CharField(max_length=200)
    action = models.CharField(max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
