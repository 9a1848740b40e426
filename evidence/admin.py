from django.contrib import admin

from .models import Evidence


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    """Read-only: evidence changes only through evidence.actions (ledgered)."""

    list_display = ("filename", "complaint", "kind", "content_type", "size", "via", "created_at", "deleted_at")
    list_filter = ("kind", "via")
    search_fields = ("sha256", "complaint__tracking_no")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
