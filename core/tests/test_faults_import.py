"""Fault: `complaintdesk import_complaints` killed with SIGKILL half-way, then run again. Every source
id ends up imported exactly once, every row is there with its own text and its ledger event, and the
ledger verifies.

The first import runs as a real process, so that it can be killed, against the suite's database file
(SQLite) or database (PostgreSQL); transactional, so that each side sees what the other committed.
The second runs the same command in this process."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import Department
from complaints.models import Complaint
from conftest import ensure_reference_data
from ledger.models import LedgerEvent

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
ROWS = 2000
BATCH = 100
SOURCE = "fault-kill"
OPTIONS = ["--format", "csv", "--source", SOURCE, "--batch-size", str(BATCH), "--no-progress"]


@pytest.fixture(scope="module", autouse=True)
def reference_data_kept(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    yield
    with django_db_blocker.unblock():
        ensure_reference_data()


def database_url() -> str:
    """The URL of the database this test runs on, for another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def text_of(n: int) -> str:
    return f"第{n}号投诉：快递延迟送达，包装破损，要求赔偿运费。"


def import_process(path: Path, tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": database_url(), "MEDIA_ROOT": str(tmp_path / "media")}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "import_complaints", str(path), *OPTIONS, "--skip-checks"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def imported() -> int:
    return Complaint.objects.filter(external_source=SOURCE).count()


def test_an_import_killed_half_way_and_run_again_imports_every_row_exactly_once(tmp_path):
    ensure_reference_data()
    Department.objects.create(code="service", name="客服中心", is_default=True)
    path = tmp_path / "complaints.csv"
    lines = ["id,description,received_at,anonymous"]
    lines += [f"K{n},{text_of(n)},2024-0{n % 9 + 1}-15,1" for n in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", "utf-8")

    first = import_process(path, tmp_path)
    try:
        deadline = time.monotonic() + 60
        # Kill once some batches have landed: the process is then mid-file, with more in flight.
        while imported() < 3 * BATCH and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert first.poll() is None, f"the import ended before it could be killed: {first.communicate()}"
        first.send_signal(signal.SIGKILL)
    finally:
        first.kill()
        first.communicate()
    assert first.returncode == -signal.SIGKILL
    kept = imported()
    assert 3 * BATCH <= kept < ROWS

    out = io.StringIO()
    call_command("import_complaints", str(path), *OPTIONS, stdout=out, stderr=io.StringIO())
    summary = json.loads(out.getvalue())
    assert summary["rows"] == ROWS and summary["errors"] == 0
    assert (summary["created"], summary["skipped_existing"]) == (ROWS - kept, kept)

    rows = list(Complaint.objects.filter(external_source=SOURCE).values_list("external_id", "description", "id"))
    ids = Counter(external_id for external_id, _text, _pk in rows)
    assert set(ids) == {f"K{n}" for n in range(ROWS)} and set(ids.values()) == {1}
    assert all(text == text_of(int(external_id[1:])) for external_id, text, _pk in rows)
    events = Counter(LedgerEvent.objects.filter(action="import").values_list("complaint_id", flat=True))
    assert set(events) == {pk for _id, _text, pk in rows} and set(events.values()) == {1}
    assert len(set(Complaint.objects.values_list("tracking_no", flat=True))) == ROWS
    report = io.StringIO()
    call_command("verify_ledger", stdout=report)
    assert f"Ledger intact: {ROWS} cases, {ROWS} events" in report.getvalue()
