from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImprovementConfig(AppConfig):
    """Improvement plans (CAPA) and the case library (DESIGN.md §9)."""

    name = "improvement"
    verbose_name = _("持续改进")
    default_auto_field = "django.db.models.BigAutoField"

    # --- for the privacy app (PIPL export and erasure; privacy.registry) ---
    def personal_data(self, customer: Any) -> dict[str, Any]:
        """The library entries copied from the person's cases (anonymised, but about them). Plans hold
        no personal data: they link cases, which the privacy app reports itself."""
        from .models import LibraryEntry

        entries = (
            LibraryEntry.objects.filter(source_complaint__customer_id=customer.pk)
            .select_related("source_complaint")
            .order_by("pk")
        )
        return {
            "library_entries": [
                {
                    "id": entry.pk,
                    "tracking_no": entry.source_complaint.tracking_no,
                    "title": entry.title,
                    "added_at": entry.added_at.isoformat(),
                }
                for entry in entries
            ]
        }

    def erase_personal(self, customer: Any) -> None:
        """Delete the library entries copied from the person's cases (not re-anonymised: see
        actions.erase_library_entries); an ERASED LibraryEvent without reason or names stays."""
        from .actions import erase_library_entries

        erase_library_entries(customer.pk)
