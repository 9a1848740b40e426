from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResolutionsConfig(AppConfig):
    name = "resolutions"
    verbose_name = _("补救措施")
    default_auto_field = "django.db.models.BigAutoField"
