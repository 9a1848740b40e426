from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvestigationConfig(AppConfig):
    """Coordination tasks to departments and the findings of the investigation."""

    name = "investigation"
    verbose_name = _("调查核实")
    default_auto_field = "django.db.models.BigAutoField"
    # Labels of this app's ledger actions on the case timeline (complaints.views.case reads them).
    timeline_labels: dict[str, str] = {
        "create_task": _("发起协办任务"),
        "complete_task": _("协办任务完成"),
        "cancel_task": _("取消协办任务"),
        "reassign_task": _("转派协办任务"),
        "record_finding": _("记录调查结论"),
        "confirm_finding": _("确认调查结论"),
        "reject_finding": _("驳回调查结论"),
    }
