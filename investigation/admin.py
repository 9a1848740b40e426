from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import CoordinationTask, Finding, RootCause


@admin.register(RootCause)
class RootCauseAdmin(admin.ModelAdmin):
    """The root-cause taxonomy is data: admins add, rename, reorder and deactivate causes (a cause
    in use cannot be deleted; deactivate it instead)."""

    list_display = ("code", "name", "name_en", "active", "order")
    list_editable = ("name", "name_en", "active", "order")
    list_filter = ("active",)
    search_fields = ("code", "name", "name_en")


@admin.register(CoordinationTask)
class CoordinationTaskAdmin(ReadOnlyAdmin):
    """Read-only: tasks change only through investigation.actions (ledgered)."""

    list_display = ("complaint", "kind", "department", "assignee", "due_at", "blocking", "status")
    list_filter = ("kind", "status", "blocking", "department")
    # Case content is read on the case and task pages, where visibility is checked.
    exclude = ("request", "result", "cancel_reason")
    search_fields = ("complaint__tracking_no",)


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    """Read-only: findings change only through investigation.actions (ledgered)."""

    list_display = ("complaint", "nature", "root_cause", "responsibility", "status", "recorded_by", "recorded_at")
    list_filter = ("nature", "status", "responsibility", "root_cause")
    exclude = ("facts", "justification", "decision_comment")  # case content: on the case page only
    search_fields = ("complaint__tracking_no",)
