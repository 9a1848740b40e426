from django.contrib import admin

from .models import AuthorityLimit, Remedy


@admin.register(AuthorityLimit)
class AuthorityLimitAdmin(admin.ModelAdmin):
    """Admins set how much each role may grant, per org unit (the most specific unit wins)."""

    list_display = ("role", "org_unit", "limit")
    list_filter = ("role",)


@admin.register(Remedy)
class RemedyAdmin(admin.ModelAdmin):
    """Read-only: remedies change only through resolutions.actions (ledgered)."""

    list_display = ("complaint", "kind", "amount", "currency", "status", "proposed_by", "proposed_at", "paid_at")
    list_filter = ("kind", "status", "currency")
    search_fields = ("complaint__tracking_no", "paid_reference")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
