from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    """Rollups kept current from the ledger, KPI dashboards, scorecards and risk (DESIGN.md §8)."""

    name = "analytics"
    verbose_name = _("统计分析")
    default_auto_field = "django.db.models.BigAutoField"
