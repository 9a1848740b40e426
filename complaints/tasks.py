"""Background work of the case lifecycle, run by the worker after commit."""

import logging

from django_tasks import task

log = logging.getLogger("complaintdesk.tasks")


@task()
def after_event(complaint_id: int, action: str) -> None:
    """The hook for side effects of a case event. Classification (intelligence), crisis handling
    (dossier), mail and webhooks (feedback) subscribe here. Never carries secrets: ids only."""
    log.info("complaint %s: %s", complaint_id, action)
    if action == "receive":
        add_search_words(complaint_id)
        from .duplicates import find_duplicates

        find_duplicates(complaint_id)
        from intelligence.tasks import predict_for

        predict_for(complaint_id)  # the classifiers and the text's signals (risk, sentiment)
    if action in ("receive", "classify", "escalate", "sla_breach"):
        from dossier.crisis import check_case

        check_case(complaint_id, action)  # a legal/media/safety flag or level 3: the crisis checklist
    if action in ("accept", "classify", "assign"):
        from intelligence.tasks import note_corrections

        note_corrections(complaint_id, action)


def add_search_words(complaint_id: int) -> None:
    """Add jieba's words to the search text, out of the request (intake indexes bigrams only)."""
    from . import search
    from .actions import search_parts
    from .models import Complaint

    complaint = Complaint.objects.filter(pk=complaint_id).first()
    if complaint is not None:
        text = search.index_text(*search_parts(complaint))
        Complaint.objects.filter(pk=complaint_id).update(search_text=text)


@task()
def sla_tick() -> dict[str, int]:
    from .actions import sla_tick as tick

    return tick()
