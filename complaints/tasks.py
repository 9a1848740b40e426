"""Background work of the case lifecycle, run by the worker after commit."""

import logging
from collections.abc import Callable

from django_tasks import task

log = logging.getLogger("complaintdesk.tasks")


@task()
def after_event(complaint_id: int, action: str) -> None:
    """The hook for side effects of a case event: search words, duplicates and classification
    (intelligence), crisis handling (dossier), messages and webhooks (notifications), surveys and
    call-backs (feedback), care actions (customers). Never carries secrets: ids only.

    Each subscriber runs on its own: one that fails is logged and does not keep the others from
    reacting to the same event (a broken classifier must not stop the consumer's mail)."""
    log.info("complaint %s: %s", complaint_id, action)
    for name, subscriber in _subscribers(action):
        try:
            subscriber(complaint_id, action)
        except Exception:
            log.exception("complaint %s: %s after %s failed", complaint_id, name, action)


def _subscribers(action: str) -> list[tuple[str, Callable[[int, str], object]]]:
    from dossier.crisis import check_case
    from intelligence.tasks import note_corrections, predict_for

    from .duplicates import find_duplicates

    found: list[tuple[str, Callable[[int, str], object]]] = []
    if action == "receive":
        found.append(("search words", lambda pk, _action: add_search_words(pk)))
        found.append(("duplicates", lambda pk, _action: find_duplicates(pk)))
        # The classifiers and the text's signals (risk, sentiment).
        found.append(("classification", lambda pk, _action: predict_for(pk)))
    if action in ("receive", "classify", "escalate", "sla_breach"):
        # A legal/media/safety flag or level 3: the crisis checklist.
        found.append(("crisis check", check_case))
    if action in ("accept", "classify", "assign"):
        found.append(("corrections", note_corrections))
    # --- issue 6 apps: each app reacts to case events in its own on_case_event(complaint_id, action) ---
    from customers.events import on_case_event as customers
    from feedback.events import on_case_event as feedback
    from notifications.events import on_case_event as notify

    found.append(("notifications", notify))  # consumer/staff messages per event, outgoing webhooks
    found.append(("feedback", feedback))  # surveys scheduled at closing, cancelled on reopening; call-backs
    found.append(("customers", customers))  # care actions for valued customers after a serious complaint
    # --- end issue 6 apps ---
    return found


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
