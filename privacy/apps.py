from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Personal-information rights (PIPL): access and export, correction, erasure; the record of
    every view or export of personal data."""

    name = "privacy"
    verbose_name = _("个人信息权利")
    default_auto_field = "django.db.models.BigAutoField"
    # Labels of this app's ledger actions on the case timeline (complaints.views.case reads them).
    timeline_labels: dict[str, str] = {
        "view_personal": _("查看个人信息"),
        "export_personal": _("导出个人信息"),
        "correct_personal": _("更正个人信息"),
        "erase_personal": _("删除个人信息"),
    }

    # The registry contract (privacy.registry), for the data no other app speaks for.
    def personal_data(self, customer: Any) -> dict[str, Any]:
        """The customer record, complaints, contacts, replies and evidence metadata."""
        from .sections import core_sections

        return core_sections(customer)

    def erase_personal(self, customer: Any) -> None:
        """The customer record's contact details. The mail and the cases are erased by
        privacy.actions.erase before it (one ledger event per case); this runs last, after every
        other app has used the record and the cases to find what it holds."""
        from .sections import blank_customer

        blank_customer(customer)
