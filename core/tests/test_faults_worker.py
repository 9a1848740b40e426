"""Fault: the worker is down. With the database task backend the intake still answers 201 and staff
still work the case; the tasks wait in the queue, /readyz says no worker is seen, and nothing of what
the tasks do has happened. When a worker runs again (a real `db_worker --batch` process against the
same database) every task runs: the search words are added and the consumer's acknowledgement mail
goes out through SMTP.

Transactional: the worker is another process and sees only committed rows."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from complaints.models import Complaint
from conftest import Api, ensure_reference_data

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def reference_data_kept(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    yield
    with django_db_blocker.unblock():
        ensure_reference_data()


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def test_intake_goes_on_while_the_worker_is_down_and_the_tasks_run_when_it_returns(
    cast, body, settings, smtp_server, tmp_path
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert Client().get("/readyz").json()["checks"]["worker"] == "never seen"

    filed = []
    for n in range(3):
        response = Api().post(
            "/complaints",
            body(
                complainant_phone=f"1390013{n:04d}",
                complainant_email=f"consumer{n}@example.com",
                preferred_contact="email",
            ),
        )
        assert response.status_code == 201, response.content
        filed.append(response.json()["tracking_no"])
    first = Complaint.objects.get(tracking_no=filed[0])
    accepted = Api(cast.agent).post(
        f"/complaints/{first.tracking_no}/accept",
        {"priority": "P2", "note": "已受理，三日内答复。", "version": first.version},
    )
    assert accepted.status_code == 200, accepted.content

    waiting = DBTaskResult.objects.all()
    assert waiting.count() == 4 and {t.status for t in waiting} == {"READY"}
    assert sorted(tuple(t.args_kwargs["args"]) for t in waiting) == sorted(
        [(c.pk, "receive") for c in Complaint.objects.all()] + [(first.pk, "accept")]
    )
    assert not any("电热水壶" in c.search_text.split() for c in Complaint.objects.all())
    assert smtp_server.messages == []

    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "TASK_BACKEND": "db",
        "EMAIL_HOST": settings.EMAIL_HOST,
        "EMAIL_PORT": str(settings.EMAIL_PORT),
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": "off",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "EVIDENCE_ROOT": str(tmp_path / "evidence"),
        "COMPLAINTDESK_SIMILARITY_DIR": settings.COMPLAINTDESK_SIMILARITY_DIR,
        "COMPLAINTDESK_APPLY_TEXT_SIGNALS": "off",
    }
    worker = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "db_worker", "--batch", "--no-startup-delay", "--skip-checks"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr

    statuses = {
        (tuple(t.args_kwargs["args"]), t.task_path.rsplit(".", 1)[-1]): t.status for t in DBTaskResult.objects.all()
    }
    assert set(statuses.values()) == {"SUCCESSFUL"}, statuses
    assert all("电热水壶" in c.search_text.split() for c in Complaint.objects.all())
    # The acknowledgement of the accepted case, queued by the accept task and sent by the same worker run.
    assert [m["To"] for m in smtp_server.messages] == ["consumer0@example.com"]
    assert first.tracking_no in smtp_server.messages[0].get_body(("plain",)).get_content()
