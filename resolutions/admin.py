from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import AuthorityLimit, Remedy


@admin.register(AuthorityLimit)
class AuthorityLimitAdmin(admin.ModelAdmin):
    """Admins set how much each role may grant, per org unit (the most specific unit wins)."""

    list_display = ("role", "org_unit", "limit")
    list_filter = ("role",)


@admin.register(Remedy)
class RemedyAdmin(ReadOnlyAdmin):
    """Read-only: remedies change only through resolutions.actions (ledgered)."""

    list_display = ("complaint", "kind", "amount", "currency", "status", "proposed_by", "proposed_at", "paid_at")
    list_filter = ("kind", "status", "currency")
    search_fields = ("complaint__tracking_no", "paid_reference")
