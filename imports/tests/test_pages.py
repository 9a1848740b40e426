"""The import page under /staff/imports/: admins only; upload -> job -> progress -> error report."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from complaints.models import Complaint
from imports.models import ImportJob, ImportRowError, JobStatus

CSV = (
    "id,description,complainant_phone,received_at\n"
    "1,热水器漏水，要求上门维修。,13800138000,2024-05-01\n"
    "=2+3,太短,13800138001,2024-05-01\n"
    "3,冰箱不制冷，要求更换。,13800138003,yesterday\n"
)


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, content: str = CSV, **fields: object):  # type: ignore[no-untyped-def]
    data = {"format": "csv", "source": "crm", "file": SimpleUploadedFile("投诉.csv", content.encode(), "text/csv")}
    data.update(fields)
    return client.post("/staff/imports/", data)


def test_only_admins_reach_the_import_page(cast):
    anonymous = Client().get("/staff/imports/")
    assert anonymous.status_code == 302 and "/staff/login/" in anonymous["Location"]
    for user in (cast.agent, cast.supervisor, cast.auditor, cast.analyst, cast.manager, cast.legal):
        client = client_for(user)
        assert client.get("/staff/imports/").status_code == 403
        assert upload(client).status_code == 403
    assert not ImportJob.objects.exists()
    page = client_for(cast.admin).get("/staff/imports/")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()


def test_upload_runs_the_job_and_shows_progress_and_the_error_report(cast):
    admin = client_for(cast.admin)
    response = upload(admin)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/staff/imports/{job.pk}/"
    assert job.status == JobStatus.DONE and job.created_by == cast.admin
    assert (job.rows, job.created, job.errors) == (3, 1, 2)
    assert job.file == ""  # the upload is deleted once imported
    case = Complaint.objects.get()
    assert case.ledger_events.get().actor == f"staff:{cast.admin.pk}"

    page = admin.get(f"/staff/imports/{job.pk}/").content.decode()
    assert 'id="import-progress" value="100"' in page
    assert "hx-trigger" not in page  # finished: no more polling
    assert "yesterday" in page and "style=" not in page  # no inline styles (CSP)
    progress = admin.get(f"/staff/imports/{job.pk}/progress/")
    assert progress.status_code == 200 and 'id="created">1<' in progress.content.decode()

    report = admin.get(f"/staff/imports/{job.pk}/errors.csv")
    assert report["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["row", "line", "source_id", "field", "reason"]
    assert [r[0] for r in rows[1:]] == ["2", "3"]
    assert rows[1][2] == "'=2+3"  # formula injection neutralised
    for user in (cast.agent, cast.auditor):
        assert client_for(user).get(f"/staff/imports/{job.pk}/errors.csv").status_code == 403
        assert client_for(user).get(f"/staff/imports/{job.pk}/").status_code == 403


def test_a_running_job_is_polled_until_it_finishes(cast):
    job = ImportJob.objects.create(
        created_by=cast.admin, format="csv", file_name="big.csv", status=JobStatus.RUNNING, total_units=1000
    )
    ImportJob.objects.filter(pk=job.pk).update(done_units=250, rows=1200)
    fragment = client_for(cast.admin).get(f"/staff/imports/{job.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in fragment and f'hx-get="/staff/imports/{job.pk}/progress/"' in fragment
    assert 'value="25"' in fragment and 'id="rows">1200<' in fragment


def test_fatal_problems_and_oversized_files_are_reported_on_the_page(cast, settings):
    admin = client_for(cast.admin)
    bad = SimpleUploadedFile("x.csv", "id,description\n1,Café\n".encode("latin-1"), "text/csv")
    admin.post("/staff/imports/", {"format": "csv", "source": "crm", "file": bad})
    job = ImportJob.objects.get()
    assert job.status == JobStatus.FAILED and "编码" in job.fatal
    assert "编码" in admin.get(f"/staff/imports/{job.pk}/").content.decode()

    settings.COMPLAINTDESK_IMPORT_MAX_BYTES = 10
    refused = upload(admin)
    assert refused.status_code == 422 and "文件过大" in refused.content.decode()
    assert ImportJob.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"source": ""}, "来源名称"),
        ({"format": "cfpb", "mapping": SimpleUploadedFile("m.json", b'{"source": "a", "id": "id"}')}, "不需要映射文件"),
        ({"mapping": SimpleUploadedFile("m.json", b"{oops")}, "JSON"),
        ({"mapping": SimpleUploadedFile("m.json", b'{"source": "a", "fields": {}}')}, "id"),
    ],
)
def test_the_form_refuses_what_cannot_work(cast, fields, message):
    response = upload(client_for(cast.admin), **fields)
    assert response.status_code == 422 and message in response.content.decode()
    assert not ImportJob.objects.exists() and not ImportRowError.objects.exists()
