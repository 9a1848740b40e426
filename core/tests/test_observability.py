"""Operations (issue 9, item 8): request ids, structured JSON logs, Prometheus metrics."""

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.test import Client, override_settings

from core.observability import RequestIdFilter, request_id

ROOT = Path(__file__).resolve().parents[2]


def test_every_response_carries_a_request_id_and_a_good_one_given_is_kept(db):
    first = Client().get("/healthz")
    assert len(first["X-Request-ID"]) == 32
    second = Client().get("/healthz")
    assert second["X-Request-ID"] != first["X-Request-ID"]
    kept = Client().get("/healthz", HTTP_X_REQUEST_ID="lb-4f1c2a9e-0001")
    assert kept["X-Request-ID"] == "lb-4f1c2a9e-0001"
    # Anything else (too short, odd characters, a header injection attempt) is replaced.
    for bad in ("x", "a b c d e f g h", "id\r\nSet-Cookie: x=1", "<script>alert(1)</script>"):
        assert Client().get("/healthz", HTTP_X_REQUEST_ID=bad)["X-Request-ID"] != bad


def test_the_access_line_and_every_log_record_of_a_request_carry_its_id(db, caplog):
    caplog.set_level(logging.INFO, logger="complaintdesk.request")
    response = Client().get("/track/?tracking_no=TS20261123-000001", HTTP_X_REQUEST_ID="trace-12345678")
    lines = [r for r in caplog.records if r.name == "complaintdesk.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line.request_id == "trace-12345678" and line.status == response.status_code
    # The URL pattern, not the path: no tracking number or query string in the log or in metric labels.
    assert "TS20261123" not in line.getMessage() and "?" not in line.route


def test_the_json_formatter_writes_one_object_per_line_with_the_request_id():
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )
    record = logging.LogRecord("complaintdesk.x", logging.WARNING, __file__, 1, "投诉 %s 已超时", ("A",), None)
    token = request_id.set("req-abcdefgh")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)
    data = json.loads(formatter.format(record))
    assert data["message"] == "投诉 A 已超时" and data["level"] == "WARNING"
    assert data["request_id"] == "req-abcdefgh" and data["logger"] == "complaintdesk.x" and "time" in data


def test_metrics_count_requests_by_route_and_report_queue_and_sla_gauges(db):
    client = Client()
    client.get("/healthz")
    client.get("/healthz")
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'complaintdesk_http_requests_total{method="GET",route="healthz",status="200"}' in body
    assert "complaintdesk_http_request_duration_seconds_bucket" in body
    for name in (
        'complaintdesk_task_queue_depth{state="waiting"}',
        "complaintdesk_task_outbox_waiting",
        'complaintdesk_sla_breached_cases{clock="acknowledgement"}',
        'complaintdesk_sla_breached_cases{clock="resolution"}',
        "complaintdesk_worker_heartbeat_age_seconds",
    ):
        assert name in body, name


def test_metrics_count_breached_cases(db, cast, body):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    from complaints.models import Complaint

    assert Client().post("/api/v1/complaints", body(), content_type="application/json").status_code == 201
    Complaint.objects.update(ack_due_at=timezone.now() - timedelta(hours=1))
    text = Client().get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'complaintdesk_sla_breached_cases{clock="acknowledgement"} 1.0' in text


def test_metrics_are_closed_to_other_addresses_and_open_to_the_token(db):
    assert Client().get("/metrics", REMOTE_ADDR="203.0.113.5").status_code == 403
    with override_settings(COMPLAINTDESK_METRICS_TOKEN="s3cret-token"):
        assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
        assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", REMOTE_ADDR="203.0.113.5").status_code == 403
        ok = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token", REMOTE_ADDR="203.0.113.5")
        assert ok.status_code == 200 and b"complaintdesk_http_requests_total" in ok.content


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_served_by_several_gunicorn_processes_the_metrics_add_up_and_the_logs_are_json(tmp_path):
    """`complaintdesk serve --workers 2`: requests spread over two processes are all counted in any
    process's /metrics (prometheus_client multi-process mode), and the access lines on stderr are JSON."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    port = _free_port()
    env = dict(
        os.environ, DATABASE_URL=url, LOG_FORMAT="json", LOG_LEVEL="INFO", DJANGO_SETTINGS_MODULE="config.settings"
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/healthz", timeout=60
                ).read()  # no client timeout: each one counts
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        for _ in range(19):  # 20 in all, with the one above
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
        for _ in range(3):  # whichever process answers, it reports the sum of both
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
            assert 'complaintdesk_http_requests_total{method="GET",route="healthz",status="200"} 20.0' in text, text
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            _, stderr = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
    access = []
    for raw in stderr.splitlines():
        if raw.startswith("{"):
            record = json.loads(raw)
            if record.get("logger") == "complaintdesk.request":
                access.append(record)
    assert len(access) >= 20
    assert all(len(r["request_id"]) == 32 and r["route"] in {"healthz", "metrics"} for r in access)
