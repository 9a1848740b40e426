"""The commands as the operator runs them: outside any transaction, with the process exit status.

Transactional (committed data; verify takes its own snapshot per batch, REPEATABLE READ on
PostgreSQL). A transactional test's flush empties every table, including what migrations put there
(the complaint taxonomy, SLA policies) and the regions the session loaded: all are put back before
and after."""

import json
from collections.abc import Iterator
from importlib import import_module

import pytest
from django.core.management import execute_from_command_line

from complaints.models import Complaint
from ledger.models import Checkpoint, SealedHead

from .helpers import WORKED_EVENTS

pytestmark = pytest.mark.django_db(transaction=True)


def _restore_reference_data() -> None:
    from django.apps import apps

    from core import regions

    # The data migration's seed (taxonomy, SLA policies) is idempotent and works on the live registry.
    seed = import_module("complaints.migrations.0003_search_index_and_defaults").seed
    seed(apps, None)
    regions.load()


@pytest.fixture(scope="module", autouse=True)
def reference_data_kept(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        _restore_reference_data()
    yield
    # Module scope: this runs after the last test's flush, so later transactional tests find the data.
    with django_db_blocker.unblock():
        _restore_reference_data()


def complaintdesk(*args: str) -> int:
    """Run a command the way the console script does; its exit status."""
    try:
        execute_from_command_line(["complaintdesk", *args])
    except SystemExit as exit:
        return int(exit.code or 0)
    return 0


def test_operator_seals_verifies_and_sees_tampering(make_case, capsys, tmp_path):
    complaint = make_case()
    # Another complainant: the same person's same text would be linked as a possible duplicate.
    make_case(worked=False, complainant_phone="13900139000", complainant_email="")
    assert complaintdesk("seal_ledger", "--settle", "0") == 0
    assert complaintdesk("verify_ledger", "--json") == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["ok"] and report["events"] == WORKED_EVENTS + 1 and report["checkpoints"] == 1
    assert complaintdesk("ledger_digest", "--out", str(tmp_path)) == 0
    [digest] = tmp_path.glob("ledger-digest-*.json")
    assert complaintdesk("verify_ledger", "--against", str(digest)) == 0
    assert "It extends the digest of checkpoint 1" in capsys.readouterr().out

    Complaint.objects.filter(pk=complaint.pk).update(priority="P1")
    assert complaintdesk("verify_ledger") == 1
    captured = capsys.readouterr()
    assert f"First broken: {complaint.tracking_no} event 2 field priority:" in captured.out
    assert "the ledger does not verify" in captured.err
    # A chain cut back to before the digest: the digest kept outside tells.
    Complaint.objects.filter(pk=complaint.pk).update(priority="P2")
    Checkpoint.objects.all().delete()
    SealedHead.objects.all().delete()
    assert complaintdesk("verify_ledger") == 0
    assert complaintdesk("verify_ledger", "--against", str(digest)) == 1
    assert "First broken: checkpoint 1: named by the exported digest but missing" in capsys.readouterr().out
