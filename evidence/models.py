"""Evidence items: files attached to a case, stored content-addressed by SHA-256 (evidence/store.py).

An item is never overwritten; the row stays even when its file is deleted after retention, so the
chain of custody in the ledger always names something."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import EvidenceKind, Via


class Evidence(models.Model):
    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(_("证据类型"), max_length=20, choices=EvidenceKind.choices)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    # Detected from the content, never taken from the name or the browser.
    content_type = models.CharField(max_length=100)
    filename = models.CharField(_("文件名"), max_length=255)
    description = models.CharField(_("说明"), max_length=500, blank=True)
    via = models.CharField(max_length=10, choices=Via.choices)
    # staff:<id>, consumer or system, as in the ledger.
    added_by = models.CharField(max_length=40)
    added_by_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    # The consumer sees what they sent and what staff chose to show them.
    shown_to_consumer = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("证据")
        verbose_name_plural = pgettext_lazy("plural", "证据")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.sha256[:12]})"
