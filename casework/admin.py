from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import ClosingChecklist, Contact, Reply, ReplyTemplate


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    """Admins edit the reply templates (话术); the model's clean() refuses unknown placeholders by name."""

    list_display = ("name", "purpose", "language", "category", "active", "updated_at")
    list_filter = ("purpose", "language", "active", "category")
    search_fields = ("name", "body")


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    """Read-only: contacts are written by casework.actions (ledgered)."""

    list_display = ("complaint", "direction", "party", "channel", "occurred_at", "recorded_by")
    list_filter = ("direction", "party", "channel")
    # Case content is read on the case page, where visibility is checked and views are ledgered.
    exclude = ("summary", "third_party_name")
    search_fields = ("complaint__tracking_no",)


@admin.register(Reply)
class ReplyAdmin(ReadOnlyAdmin):
    list_display = ("complaint", "sent_at", "sent_by", "delivery")
    list_filter = ("delivery",)
    exclude = ("text",)  # case content: on the case page only
    search_fields = ("complaint__tracking_no",)


@admin.register(ClosingChecklist)
class ClosingChecklistAdmin(ReadOnlyAdmin):
    list_display = ("complaint", "closed_at", "closed_by", "survey_due_at", "survey_skipped")
    list_filter = ("survey_skipped",)
    search_fields = ("complaint__tracking_no",)
