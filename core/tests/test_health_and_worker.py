from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from core import scheduler
from core.models import WorkerHeartbeat


def test_healthz_answers_while_the_process_is_up(db):
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_readyz_needs_a_recent_worker(db):
    response = Client().get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["worker"] == "never seen"
    scheduler.heartbeat("test-worker")
    response = Client().get("/readyz")
    assert response.status_code == 200 and response.json()["checks"] == {"database": "ok", "worker": "ok"}
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=10))
    assert Client().get("/readyz").status_code == 503


def test_openapi_document_is_served(db):
    spec = Client().get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/complaints" in spec["paths"] and "/api/v1/public/complaints/{tracking_no}" in spec["paths"]
    assert "post" in spec["paths"]["/api/v1/complaints"] and "get" in spec["paths"]["/api/v1/complaints"]


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_runs_the_tasks_of_an_intake(org, body, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    complaint, _ = actions.submit(check_intake(IntakeData(**body()), staff=False), actor=Actor.consumer())
    assert complaint.search_text.count(" ") > 0
    task = DBTaskResult.objects.get()
    assert task.status == "READY" and task.args_kwargs["args"] == [complaint.pk, "receive"]
    call_command("db_worker", batch=True, startup_delay=False)
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    # The worker added jieba's words (3+ characters) to the search text.
    assert "电热水壶" in Complaint.objects.get(pk=complaint.pk).search_text.split()


def test_scheduler_round_runs_every_job_and_beats(db):
    results = scheduler.run_once("round")
    assert set(results) == {
        "sla_tick",
        "ledger_checkpoint",
        "purge_idempotency",
        "purge_rate_counters",
        "requeue_pending_tasks",  # issue 9 (faults: the task outbox)
        "similarity_index",
        "coordination_tasks_overdue",
        "expire_offers",
        "detect_spikes",
        "send_due_surveys",  # issue 6 (feedback)
        "notifications_retry",  # issue 6 (notifications)
        "customers_refresh_value_tiers",  # issue 6 (customers)
        "improvement_overdue_plans",  # issue 8 (improvement)
        "reports_send_due",  # issue 8 (reports)
        "rollups",  # issue 8 (analytics)
        "risk_assess",  # issue 8 (risk)
        "ledger_daily_digest",  # issue 9 (ledger)
        "purge_security_events",  # issue 9 (authentication)
        "privacy_retention",  # issue 9 (retention)
    }
    assert WorkerHeartbeat.objects.filter(name="round").exists()


def test_error_reports_hide_access_codes_and_tokens(rf):
    from core.reporting import ReporterFilter

    request = rf.get("/", HTTP_X_ACCESS_CODE="ABCDEFGH2345", HTTP_AUTHORIZATION="Bearer cd_x", HTTP_IDEMPOTENCY_KEY="k")
    meta = ReporterFilter().get_safe_request_meta(request)
    assert meta["HTTP_X_ACCESS_CODE"] == meta["HTTP_AUTHORIZATION"] == meta["HTTP_IDEMPOTENCY_KEY"]
    assert "ABCDEFGH2345" not in str(meta)


def test_pages_carry_a_strict_content_security_policy(db):
    response = Client().get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert "onchange=" not in response.content.decode()  # no inline handlers for the policy to block
