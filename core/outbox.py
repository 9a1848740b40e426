"""Tasks for a broker outside the database, without losing one (the transactional outbox).

With the database task backend a task row is written in the case's own transaction and needs nothing
more. With Redis (TASK_BACKEND=rq) the task can only be handed over after commit, and Redis may be down
just then: the write has happened, the task must not be lost. So the task is first written as a
`PendingTask` row in the same transaction, handed to the broker after commit and the row deleted; if the
broker refuses, the row stays and `requeue_pending_tasks` (a scheduler job) hands it over later."""

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import PendingTask

log = logging.getLogger("complaintdesk.tasks")

# A row younger than this may still be on its way (its transaction's on_commit hook has not run yet).
GRACE = timedelta(seconds=60)


def enqueue_durably(task: Any, *args: Any) -> None:
    """Enqueue `task(*args)` after the current transaction commits, keeping an outbox row until the
    broker has it."""
    pending = PendingTask.objects.create(task_path=task.module_path, args=list(args))

    def hand_over() -> None:
        try:
            task.enqueue(*args)
        except Exception as exc:  # any broker failure: the row stays for the job
            log.warning("task %s not enqueued, kept in the outbox (#%s): %s", task.module_path, pending.pk, exc)
            PendingTask.objects.filter(pk=pending.pk).update(attempts=1, last_error=str(exc)[:300])
            return
        PendingTask.objects.filter(pk=pending.pk).delete()

    transaction.on_commit(hand_over)


def requeue_pending_tasks(now=None, limit: int = 1000) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Hand the outbox's left-over tasks to the broker (oldest first); stop at the first refusal, since
    the broker is then still down. Returns counts."""
    cutoff = (now or timezone.now()) - GRACE
    sent = failed = 0
    for row in PendingTask.objects.filter(created_at__lt=cutoff).order_by("created_at", "id")[:limit]:
        try:
            import_string(row.task_path).enqueue(*row.args)
        except Exception as exc:  # the broker is still down
            PendingTask.objects.filter(pk=row.pk).update(attempts=row.attempts + 1, last_error=str(exc)[:300])
            failed += 1
            break
        PendingTask.objects.filter(pk=row.pk).delete()
        sent += 1
    return {"sent": sent, "failed": failed, "waiting": PendingTask.objects.count()}
