from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResolutionsConfig(AppConfig):
    name = "resolutions"
    verbose_name = _("补救措施")
    default_auto_field = "django.db.models.BigAutoField"
    # The case page's timeline labels of the negotiation's own events (complaints.views merges them).
    timeline_labels = {
        "counter_offer": _("投诉人还价"),
        "withdraw_offer": _("撤回处理方案"),
        "expire_offer": _("处理方案过期"),
        "settlement_agreement": _("生成和解协议"),
    }
