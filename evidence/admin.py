from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Evidence


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    """Read-only: evidence changes only through evidence.actions (ledgered)."""

    list_display = ("filename", "complaint", "kind", "content_type", "size", "via", "created_at", "deleted_at")
    list_filter = ("kind", "via")
    search_fields = ("sha256", "complaint__tracking_no")
