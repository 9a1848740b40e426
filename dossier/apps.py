from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossierConfig(AppConfig):
    """External routes (mediation, arbitration, litigation, regulator referral), the case dossier for
    a court or a regulator, and crisis handling."""

    name = "dossier"
    verbose_name = _("外部程序与案卷")
    default_auto_field = "django.db.models.BigAutoField"
    # Labels of this app's ledger actions on the case timeline (complaints.views.case reads them).
    timeline_labels: dict[str, str] = {
        "add_external_document": _("外部程序文书"),
        "export_dossier": _("导出案卷"),
        "crisis_escalation": _("升级至 L3 危机处理"),
        "verify_crisis_facts": _("危机处理：事实已核实"),
        "draft_crisis_statement": _("危机处理：起草对外声明"),
        "approve_crisis_statement": _("危机处理：批准对外声明"),
        "log_media_contact": _("危机处理：登记媒体联络"),
        "confirm_media_contacts": _("危机处理：媒体联络登记完毕"),
    }
