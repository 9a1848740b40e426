"""The import job of the admin page, run by the worker (django-tasks). The task carries the job id
only; the file waits in the default storage and is deleted when the job has finished."""

import logging
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from complaints.ledgering import Actor

from .drafts import RowError
from .models import ImportJob, ImportRowError, JobStatus
from .service import ImportFailed, Summary, run_import

log = logging.getLogger("complaintdesk.imports")
# Rows of the error report kept per job; more are counted, not listed.
MAX_STORED_ERRORS = 100_000


class JobErrors:
    """Error rows of a job, written after every batch."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.stored = 0

    def add(self, errors: list[RowError]) -> None:
        room = MAX_STORED_ERRORS - self.stored
        if room <= 0:
            return
        rows = [
            ImportRowError(
                job=self.job,
                row=e.row,
                line=e.line,
                field=e.field[:200],
                reason=e.reason,
                source_id=e.source_id[:100],
            )
            for e in errors[:room]
        ]
        ImportRowError.objects.bulk_create(rows)
        self.stored += len(rows)


@task()
def run_import_job(job_id: int) -> dict[str, Any]:
    claimed = ImportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return {"skipped": "not queued"}
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    actor = Actor.staff(job.created_by) if job.created_by else Actor.system()

    def progress(summary: Summary) -> None:
        ImportJob.objects.filter(pk=job_id).update(
            rows=summary.rows,
            errors=summary.errors,
            done_units=summary.done_units,
            total_units=summary.total_units,
            encoding=summary.encoding,
            warnings=summary.warnings,
            seconds=summary.seconds,
        )

    def committed(summary: Summary) -> None:
        # In the batch's transaction: the counts always match what is committed.
        ImportJob.objects.filter(pk=job_id).update(created=summary.created, skipped_existing=summary.skipped_existing)

    fields: dict[str, Any] = {}
    try:
        with default_storage.open(job.file, "rb") as raw:
            summary = run_import(
                raw,
                fmt=job.format,
                mapping=job.mapping,
                source=job.source,
                dry_run=job.dry_run,
                actor=actor,
                job_id=job.pk,
                errors=JobErrors(job),
                on_progress=progress,
                in_batch=committed,
            )
        fields.update(
            status=JobStatus.DONE,
            rows=summary.rows,
            created=summary.created,
            skipped_existing=summary.skipped_existing,
            errors=summary.errors,
            warnings=summary.warnings,
            encoding=summary.encoding,
            seconds=summary.seconds,
            done_units=F("total_units"),
        )
        result = summary.as_dict()
    except ImportFailed as exc:
        fields.update(status=JobStatus.FAILED, fatal=str(exc))
        if exc.summary is not None:
            done = exc.summary
            fields.update(
                rows=done.rows, created=done.created, skipped_existing=done.skipped_existing, errors=done.errors
            )
        result = {"fatal": str(exc)}
    except Exception as exc:
        log.exception("import job %s failed", job_id)
        fields.update(status=JobStatus.FAILED, fatal=_("导入意外中止：%(error)s") % {"error": type(exc).__name__})
        result = {"fatal": type(exc).__name__}
    finally:
        try:
            default_storage.delete(job.file)
        except OSError:
            log.warning("import job %s: could not delete %s", job_id, job.file)
    ImportJob.objects.filter(pk=job_id).update(finished_at=timezone.now(), file="", **fields)
    return result
