"""Import jobs started from the admin page, their progress and their error reports."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Format(models.TextChoices):
    CFPB = "cfpb", _("CFPB 投诉数据库（CSV，无需映射文件）")
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel（XLSX）")
    JSONL = "jsonl", _("JSON Lines")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")  # waiting for the worker
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")  # ran to the end; bad rows, if any, are in the error report
    FAILED = "failed", _("失败")  # a fatal problem (unreadable file, bad mapping); batches committed before it stay


class ImportJob(models.Model):
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    format = models.CharField(_("格式"), max_length=10, choices=Format.choices)
    source = models.CharField(_("来源系统"), max_length=40, blank=True)
    mapping = models.JSONField(_("映射"), null=True, blank=True)
    dry_run = models.BooleanField(_("试运行"), default=False)
    # The uploaded file in the default storage; deleted once the job has finished.
    file = models.CharField(max_length=300, blank=True)
    file_name = models.CharField(_("文件名"), max_length=200)
    file_size = models.BigIntegerField(default=0)
    # Progress, written after every batch (bytes or sheet rows; total 0 when unknown).
    done_units = models.BigIntegerField(default=0)
    total_units = models.BigIntegerField(default=0)
    rows = models.BigIntegerField(default=0)
    created = models.BigIntegerField(default=0)
    skipped_existing = models.BigIntegerField(default=0)
    errors = models.BigIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    fatal = models.TextField(_("错误"), blank=True)
    seconds = models.FloatField(default=0)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = pgettext_lazy("plural", "导入任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        if not self.total_units:
            return 0
        return min(99, int(self.done_units * 100 / self.total_units))

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)


class ImportRowError(models.Model):
    """One problem with one row: what the error report lists."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row = models.BigIntegerField()
    line = models.BigIntegerField(default=0)
    field = models.CharField(max_length=200, blank=True)
    reason = models.TextField()
    source_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["job", "row"])]
