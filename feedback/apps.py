from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    """Satisfaction surveys (ISO 10004) and call-backs (回访)."""

    name = "feedback"
    verbose_name = _("满意度与回访")
    default_auto_field = "django.db.models.BigAutoField"
    # Labels of this app's ledger actions on the case timeline (complaints.views.case reads them).
    timeline_labels: dict[str, str] = {
        "answer_survey": _("满意度调查回答"),
        "record_callback": _("登记回访结果"),
        "reassign_callback": _("回访改派"),
    }

    def ready(self) -> None:
        from .sending import register

        register()  # the survey link in "survey" messages (notifications.registry)

    # --- for the privacy app (PIPL export and erasure) ---
    def personal_data(self, customer: Any) -> dict[str, Any]:
        """The customer's survey answers and call-back records."""
        from .selectors import callbacks_for_customer, satisfaction_for_customer

        answers = [
            {**row, "answered_at": row["answered_at"].isoformat()} for row in satisfaction_for_customer(customer.pk)
        ]
        callbacks = [
            {
                "tracking_no": cb.complaint.tracking_no,
                "created_at": cb.created_at.isoformat(),
                "due_at": cb.due_at.isoformat(),
                "reason": cb.reason,
                "status": cb.status,
                "attempts": cb.attempts,
                "reached": cb.reached,
                "satisfied": cb.satisfied,
                "note": cb.note,
                "linked_tracking_no": cb.linked_complaint.tracking_no if cb.linked_complaint_id else None,
            }
            for cb in callbacks_for_customer(customer.pk)
        ]
        return {"survey_answers": answers, "callbacks": callbacks}

    def erase_personal(self, customer: Any) -> None:
        """Blank survey comments and call-back notes of the customer's cases; scores stay."""
        from .actions import erase_personal

        erase_personal(customer.pk)
