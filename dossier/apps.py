from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossierConfig(AppConfig):
    """External routes (mediation, arbitration, litigation, regulator referral), the case dossier for
    a court or a regulator, and crisis handling."""

    name = "dossier"
    verbose_name = _("外部程序与案卷")
    default_auto_field = "django.db.models.BigAutoField"
    # Labels of this app's ledger actions on the case timeline (complaints.views.case reads them).
    timeline_labels: dict[str, str] = {}
