from django.contrib import admin

from .models import Callback, CallbackRule, SurveyRule


@admin.register(SurveyRule)
class SurveyRuleAdmin(admin.ModelAdmin):
    list_display = ("order", "name", "active", "score_at_most", "when_not_solved", "action")
    list_editable = ("active",)
    ordering = ("order", "id")


@admin.register(CallbackRule)
class CallbackRuleAdmin(admin.ModelAdmin):
    list_display = ("order", "name", "active", "kind", "priorities", "percent", "seed")
    list_editable = ("active",)
    ordering = ("order", "id")


@admin.register(Callback)
class CallbackAdmin(admin.ModelAdmin):
    """Reassigning a call-back (assignee, due date) is an admin's; outcomes are recorded on the list."""

    list_display = ("complaint", "assignee", "due_at", "status", "reason")
    list_filter = ("status", "source")
    fields = ("assignee", "due_at")
    raw_id_fields = ("assignee",)

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        """Through feedback.actions, so the reassignment is a ledger event on the case (issue 9)."""
        from complaints.ledgering import Actor

        from .actions import reassign_callback

        reassign_callback(obj, actor=Actor.staff(request.user), assignee_id=obj.assignee_id, due_at=obj.due_at)
