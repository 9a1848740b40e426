"""The one place feedback talks to the notifications app (notifications.service), so that the
survey mail and SMS follow the consumer's preferred contact and opt-outs like every other message.
The link is added when the message is rendered (register_context), never stored."""

from typing import Any

from complaints.models import Complaint

from .models import Survey


def may_contact(complaint: Complaint) -> bool:
    from notifications import service

    return bool(service.may_contact(complaint, "survey"))


def send_survey(survey: Survey) -> list[Any]:
    """Inside the job's transaction; notifications sends after commit."""
    from notifications import service

    return list(service.notify_consumer(survey.complaint, "survey"))


def survey_link(delivery: Any) -> dict[str, Any]:
    """The render-time context of a "survey" message: the absolute link with a fresh signed token."""
    from .tokens import survey_url

    complaint_id = getattr(delivery, "complaint_id", None)
    survey = Survey.objects.filter(complaint_id=complaint_id).only("pk", "round").first() if complaint_id else None
    if survey is None:
        return {}
    return {"link": survey_url(survey.pk, survey.round)}


def register() -> None:
    from notifications.registry import register_context

    register_context("survey", survey_link)
