"""Background work of the case lifecycle, run by the worker after commit."""

import logging

from django_tasks import task

log = logging.getLogger("complaintdesk.tasks")


@task()
def after_event(complaint_id: int, action: str) -> None:
    """The hook for side effects of a case event. Classification (intelligence), mail and webhooks
    (feedback) subscribe here; the foundation only logs. Never carries secrets: ids only."""
    log.info("complaint %s: %s", complaint_id, action)


@task()
def sla_tick() -> dict[str, int]:
    from .actions import sla_tick as tick

    return tick()
