"""The import page for admins: upload a file, follow the job's progress, download the error report.
Thin views: parse -> check access (`_admin`, the one check every view here makes) -> job/task."""

import csv
import uuid
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.choices import Role
from complaints.permissions import Principal
from core.spreadsheet import safe_row

from .forms import ImportForm, max_upload_bytes
from .models import ImportJob
from .service import REPORT_HEADER
from .tasks import run_import_job

SHOWN_ERRORS = 50


def _admin(request: HttpRequest) -> Any:
    """Imports are configuration work: the admin role only (accounts.choices.Role.ADMIN)."""
    if not Principal.of(request.user).has(Role.ADMIN):
        raise PermissionDenied
    return request.user


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = PurePath(upload.name).name[-150:] or "upload"
        stored = default_storage.save(f"imports/{uuid.uuid4().hex}/{name}", upload)
        job = ImportJob.objects.create(
            created_by=user,
            format=form.cleaned_data["format"],
            source=form.cleaned_data["source"],
            mapping=form.cleaned_data["mapping"],
            dry_run=form.cleaned_data["dry_run"],
            file=stored,
            file_name=name,
            file_size=upload.size,
        )
        run_import_job.enqueue(job.pk)
        return redirect(reverse("imports:job", args=[job.pk]))
    jobs = ImportJob.objects.select_related("created_by")[:20]
    return render(
        request,
        "imports/index.html",
        {"form": form, "jobs": jobs, "max_bytes": max_upload_bytes()},
        status=422 if form.errors else 200,
    )


def _job_context(job: ImportJob) -> dict[str, Any]:
    return {"job": job, "row_errors": list(job.row_errors.all()[:SHOWN_ERRORS]), "shown_errors": SHOWN_ERRORS}


@login_required
@require_GET
def job(request: HttpRequest, pk: int) -> HttpResponse:
    _admin(request)
    found = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)
    return render(request, "imports/job.html", _job_context(found))


@login_required
@require_GET
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment that the job page polls (HTMX) until the job has finished."""
    _admin(request)
    found = get_object_or_404(ImportJob, pk=pk)
    return render(request, "imports/_progress.html", _job_context(found))


@login_required
@require_GET
def errors_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The error report as CSV; every cell neutralised against spreadsheet formulas."""
    _admin(request)
    found = get_object_or_404(ImportJob, pk=pk)

    class _Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(REPORT_HEADER)
        errors = found.row_errors.order_by("row", "id").values_list("row", "line", "source_id", "field", "reason")
        for values in errors.iterator(chunk_size=2000):
            yield writer.writerow(safe_row(values))

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{found.pk}-errors.csv"'
    return response
