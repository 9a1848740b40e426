from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    """Contacts with the consumer and third parties, reply templates (话术), the written reply and the
    closing checklist."""

    name = "casework"
    verbose_name = _("沟通与答复")
    default_auto_field = "django.db.models.BigAutoField"
    # Labels of this app's ledger actions on the case timeline (complaints.views.case reads them).
    timeline_labels: dict[str, str] = {
        "add_contact": _("沟通记录"),
        "send_reply": _("发送书面答复"),
    }
