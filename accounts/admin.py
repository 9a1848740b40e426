from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import ApiToken, Department, Membership, OrgUnit, User


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


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "is_default")


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "parent", "province_code", "city_code", "district_code")
    list_filter = ("kind",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
