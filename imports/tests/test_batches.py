"""Batches commit one by one (outside a test transaction, as in production; on PostgreSQL the storing
thread runs): an import stopped halfway keeps what it committed and a re-run adds only the rest;
two imports of one file at once create each case once."""

import io
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import Department
from complaints.models import Complaint
from conftest import ensure_reference_data
from core.fieldcrypt import lookup_hash
from imports.service import Summary, run_import

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reference() -> None:
    ensure_reference_data()
    Department.objects.create(code="service", name="客服中心", is_default=True)


def generated(path: Path, rows: int) -> Path:
    lines = ["id,description,received_at,anonymous"]
    lines += [f"G{n},第{n}号投诉：快递延迟送达，包装破损。,2024-0{n % 9 + 1}-15,1" for n in range(rows)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def intact() -> str:
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    return out.getvalue()


class Stop(Exception):
    pass


def test_an_import_stopped_halfway_keeps_its_batches_and_a_rerun_adds_the_rest(reference, tmp_path):
    path = generated(tmp_path / "g.csv", 500)
    seen = []

    def stop_after_three(summary: Summary) -> None:
        seen.append(summary.rows)
        if len(seen) == 3:
            raise Stop

    with path.open("rb") as raw, pytest.raises(Stop):
        run_import(raw, fmt="csv", source="gen", batch_size=100, on_progress=stop_after_three)
    kept = Complaint.objects.count()
    assert kept == 300  # three whole batches, nothing of the fourth
    with path.open("rb") as raw:
        summary = run_import(raw, fmt="csv", source="gen", batch_size=100)
    assert (summary.created, summary.skipped_existing) == (200, 300)
    assert Complaint.objects.count() == 500
    assert "Ledger intact: 500 cases" in intact()


def test_two_imports_of_one_file_at_once_create_each_case_once(reference, tmp_path):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers: nothing runs at once to test")
    path = generated(tmp_path / "g.csv", 600)
    results: list[Summary] = []
    failures: list[BaseException] = []

    def one() -> None:
        try:
            with path.open("rb") as raw:
                results.append(run_import(raw, fmt="csv", source="gen", batch_size=50))
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert sum(r.created for r in results) == 600
    assert sum(r.skipped_existing for r in results) == 600
    assert Complaint.objects.count() == 600
    assert "Ledger intact: 600 cases" in intact()


def test_one_person_across_batches_in_flight_is_one_customer(reference, tmp_path):
    from customers.models import Customer

    lines = ["id,description,complainant_phone,complainant_email"]
    for n in range(12):
        # The same phone in every batch of two; the e-mail arrives in the third batch.
        email = "wang@example.com" if n == 5 else ""
        lines.append(f"P{n},第{n}号投诉：充电宝发热鼓包。,1380013{n % 2:04d},{email}")
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    with path.open("rb") as raw:
        assert run_import(raw, fmt="csv", source="crm", batch_size=2).created == 12
    assert Customer.objects.count() == 2
    wang = Customer.objects.get(phone_hash=lookup_hash("phone", "+8613800130001"))  # phone is encrypted
    assert wang.email == "wang@example.com"
    assert Complaint.objects.filter(customer=wang).count() == 6
    assert "Ledger intact: 12 cases" in intact()
