from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that change only through an app's actions (each a ledger or audit event): the admin
    lists and shows them, never adds, edits or deletes."""

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
