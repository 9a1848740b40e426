"""Configuration for admins: taxonomy, SLA policies, calendars, routing. Cases are not edited here:
every change to a case goes through an action and the ledger."""

from django.contrib import admin

from . import calendar
from .models import CalendarDay, CalendarYear, Category, RoutingRule, SlaPolicy


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "parent", "active", "order")
    list_filter = ("active", "parent")


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("priority", "channel", "ack_hours", "resolution_working_days", "warn_ratio")


class _InvalidatesCalendar(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        calendar.invalidate()

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        super().delete_model(request, obj)
        calendar.invalidate()


@admin.register(CalendarYear)
class CalendarYearAdmin(_InvalidatesCalendar):
    list_display = ("year", "source", "entered_at")


@admin.register(CalendarDay)
class CalendarDayAdmin(_InvalidatesCalendar):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = (
        "order",
        "name",
        "active",
        "category",
        "product_prefix",
        "org_unit",
        "region_prefix",
        "channel",
        "department",
    )
    list_display_links = ("name",)
    list_editable = ("order", "active")
