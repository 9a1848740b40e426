from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Monthly and quarterly reports (PDF, Excel), their subscribers, and exports of case lists."""

    name = "reports"
    verbose_name = _("报告与导出")
    default_auto_field = "django.db.models.BigAutoField"
