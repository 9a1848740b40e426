"""Scale-out settings: the read replica (DATABASE_REPLICA_URL, config/routers.py), which alias each
read and write takes, and the evidence store on S3-compatible storage.

With a replica, a process whose replica URL names the test database itself checks the aliases on
real queries; this test process has no replica alias, as every deployment without one."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, router

from analytics.models import DailyRollup, RollupCursor
from complaints.models import Complaint
from config.routers import ReplicaRouter, replica_database
from reports.models import ReportSubscription

ROOT = Path(__file__).resolve().parents[2]

# Run with DATABASE_URL and DATABASE_REPLICA_URL both naming the test database.
PROBE = """
import json
from django.db import connections, router, transaction
from analytics.models import RollupCursor
from complaints.models import Complaint
from reports.models import SentReport

seen = {}
cursors = RollupCursor.objects.all()
seen["analytics_read"] = cursors.db
seen["rows_through_replica"] = sorted(cursors.values_list("name", flat=True))
seen["reports_read"] = SentReport.objects.all().db
seen["complaints_read"] = Complaint.objects.all().db
with transaction.atomic():
    seen["analytics_read_in_transaction"] = RollupCursor.objects.all().db
cursor = RollupCursor.objects.get(name="probe")
seen["loaded_from"] = cursor._state.db
cursor.last_event_id = 42
cursor.save(update_fields=["last_event_id"])
seen["saved_to"] = cursor._state.db
seen["migrate_on_replica"] = router.allow_migrate("replica", "analytics")
if connections["replica"].vendor == "postgresql":
    try:
        with connections["replica"].cursor() as raw:
            raw.execute("UPDATE analytics_rollupcursor SET last_event_id = 0")
        seen["replica_write"] = "accepted"
    except Exception as exc:
        seen["replica_write"] = str(exc)
print("PROBE " + json.dumps(seen))
"""


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_without_a_replica_every_read_and_write_uses_the_default_database(db):
    assert router.db_for_read(DailyRollup) == "default" and DailyRollup.objects.all().db == "default"
    assert ReportSubscription.objects.all().db == "default" and Complaint.objects.all().db == "default"
    assert ReplicaRouter().db_for_read(DailyRollup) is None and ReplicaRouter().db_for_write(DailyRollup) is None
    assert router.allow_migrate("default", "analytics") is True


def test_the_replica_alias_takes_the_primarys_options_read_only_and_mirrors_it_in_tests():
    primary = {
        "ENGINE": "django.db.backends.postgresql",
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 5},
    }
    replica = replica_database("postgres://reader:secret@replica.internal:5433/complaintdesk", primary)
    assert (replica["HOST"], replica["PORT"], replica["USER"], replica["NAME"]) == (
        "replica.internal",
        5433,
        "reader",
        "complaintdesk",
    )
    assert replica["CONN_MAX_AGE"] == 60 and replica["CONN_HEALTH_CHECKS"] is True
    assert replica["OPTIONS"] == {"connect_timeout": 5, "options": "-c default_transaction_read_only=on"}
    assert replica["TEST"] == {"MIRROR": "default"}
    with pytest.raises(ValueError, match="DATABASE_REPLICA_URL"):
        replica_database("sqlite:////tmp/replica.sqlite3", primary)


@pytest.mark.django_db(transaction=True)
def test_with_a_replica_analytics_and_reports_reads_go_to_it_and_everything_else_to_the_primary(tmp_path):
    RollupCursor.objects.create(name="probe")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url(),
        DATABASE_REPLICA_URL=_database_url(),
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("PROBE ")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    seen = json.loads(lines[0].removeprefix("PROBE "))
    refused = seen.pop("replica_write", None)
    if connection.vendor == "postgresql":
        assert "read-only transaction" in refused
    assert seen == {
        "analytics_read": "replica",
        "rows_through_replica": ["probe"],
        "reports_read": "replica",
        "complaints_read": "default",
        "analytics_read_in_transaction": "default",
        "loaded_from": "replica",
        "saved_to": "default",
        "migrate_on_replica": False,
    }
    # The write reached the primary (on PostgreSQL the replica's session refuses writes).
    assert RollupCursor.objects.get(name="probe").last_event_id == 42


def test_the_evidence_store_on_s3_takes_its_bucket_and_endpoint_from_the_environment(monkeypatch):
    from config import settings as config

    for name in ("EVIDENCE_S3_PREFIX", "EVIDENCE_S3_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EVIDENCE_S3_BUCKET", "complaintdesk-evidence")
    monkeypatch.setenv("EVIDENCE_S3_ENDPOINT_URL", "https://minio.internal:9000")
    monkeypatch.setenv("EVIDENCE_S3_ADDRESSING_STYLE", "path")
    assert config.evidence_s3_options() == {
        "bucket_name": "complaintdesk-evidence",
        "location": "evidence",
        "default_acl": "private",
        "querystring_auth": True,
        "endpoint_url": "https://minio.internal:9000",
        "addressing_style": "path",
    }
    monkeypatch.delenv("EVIDENCE_S3_BUCKET")
    with pytest.raises(ImproperlyConfigured, match="EVIDENCE_S3_BUCKET"):
        config.evidence_s3_options()
