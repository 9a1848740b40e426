from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvestigationConfig(AppConfig):
    """Coordination tasks to departments and the findings of the investigation."""

    name = "investigation"
    verbose_name = _("调查核实")
    default_auto_field = "django.db.models.BigAutoField"
    # Labels of this app's ledger actions on the case timeline (complaints.views.case reads them).
    timeline_labels: dict[str, str] = {}
