from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import actions
from .models import ApiToken, Department, Membership, OrgUnit, SecurityEvent, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


@admin.register(User)
class StaffAdmin(UserAdmin):
    inlines = [MembershipInline]
    list_display = ("username", "given_name", "email", "is_available", "is_active")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("ComplaintDesk", {"fields": ("given_name", "language", "is_available", "work_start", "work_end")}),
    )
    actions = ["reset_two_factor"]

    @admin.action(description=_("重置两步验证（手机丢失时）"))
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = 0
        for user in queryset:
            actions.reset_two_factor(user, by=request.user, request=request)  # type: ignore[arg-type]
            count += 1
        self.message_user(
            request,
            ngettext("已重置 %(count)d 位员工的两步验证。", "已重置 %(count)d 位员工的两步验证。", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "is_default")


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "parent", "province_code", "city_code", "district_code")
    list_filter = ("kind",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued on the account security page or by `complaintdesk create_api_token` (the raw
    token is shown there once); here they are reviewed, given an earlier expiry, or revoked."""

    list_display = ("name", "user", "prefix", "scopes", "created_at", "expires_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    readonly_fields = ("user", "name", "prefix", "key_hash", "scopes", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "username", "address")
    list_filter = ("kind",)
    search_fields = ("username", "address")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
