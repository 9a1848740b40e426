"""The risk thresholds in the Django admin, checked by the same rule as the thresholds page
(actions.check_thresholds): four edges rising strictly, within the measure's range. The snapshots
and alerts are shown read-only (the daily job writes them)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from core.errors import ValidationError

from . import actions
from .models import RiskAlert, RiskAssessment, RiskThreshold

EDGE_FIELDS = ("edge_1", "edge_2", "edge_3", "edge_4")


class RiskThresholdForm(forms.ModelForm):
    class Meta:
        model = RiskThreshold
        fields = ("measure", *EDGE_FIELDS)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        measure = data.get("measure") or getattr(self.instance, "measure", "")
        if not measure or any(data.get(name) is None for name in EDGE_FIELDS):
            return data  # the field errors already say what is missing
        raw = {actions.field_name(measure, n): data[name] for n, name in enumerate(EDGE_FIELDS, start=1)}
        try:
            actions.check_thresholds(raw)
        except ValidationError as exc:
            for key, message in exc.errors.items():
                edge = EDGE_FIELDS[int(key.rsplit("_", 1)[1]) - 1] if key != "__all__" else None
                self.add_error(edge, str(message))
        return data


@admin.register(RiskThreshold)
class RiskThresholdAdmin(admin.ModelAdmin):
    form = RiskThresholdForm
    list_display = ("measure", *EDGE_FIELDS, "updated_at", "updated_by")
    readonly_fields = ("updated_at", "updated_by")

    def save_model(self, request: HttpRequest, obj: RiskThreshold, form: Any, change: bool) -> None:
        obj.updated_at = timezone.now()
        obj.updated_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RiskAssessment)
class RiskAssessmentAdmin(ReadOnly):
    list_display = ("day", "kind", "label", "cases", "probability", "impact", "level")
    list_filter = ("kind", "level", "day")
    search_fields = ("label", "key")


@admin.register(RiskAlert)
class RiskAlertAdmin(ReadOnly):
    list_display = ("assessment", "previous_level", "level", "created_at", "acknowledged_at", "acknowledged_by")
    list_filter = ("level", "acknowledged_at")
