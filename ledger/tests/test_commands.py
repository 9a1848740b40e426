"""The operator's commands: verify_ledger, seal_ledger, ledger_digest."""

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from complaints.models import Complaint
from ledger import chain
from ledger.models import Checkpoint

from .helpers import WORKED_EVENTS

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_verify_ledger_reports_an_intact_ledger(make_case):
    make_case()
    run("seal_ledger", "--settle", "0")
    assert run("verify_ledger").strip() == f"Ledger intact: 1 cases, {WORKED_EVENTS} events, 1 checkpoints."


def test_verify_ledger_json_is_one_object(make_case):
    make_case()
    report = json.loads(run("verify_ledger", "--json"))
    assert report == {
        "ok": True,
        "cases": 1,
        "events": WORKED_EVENTS,
        "checkpoints": 0,
        "problems": [],
        "first_broken": None,
        "more_problems": 0,
    }


def test_verify_ledger_fails_with_exit_status_1_and_names_the_problem(make_case):
    complaint = make_case()
    Complaint.objects.filter(pk=complaint.pk).update(priority="P1")
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("verify_ledger", stdout=out)
    assert raised.value.returncode == 1
    problem = f"{complaint.tracking_no} event 2 field priority: case row has 'P1', ledger replay gives 'P2'"
    assert out.getvalue().splitlines() == [
        f"Ledger BROKEN: 1 problem(s) in 1 cases, {WORKED_EVENTS} events, 0 checkpoints.",
        f"First broken: {problem}",
        f"  - {problem}",
    ]


def test_verify_ledger_json_fails_too(make_case):
    complaint = make_case(worked=False)
    Complaint.objects.filter(pk=complaint.pk).update(status="closed")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_ledger", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["ok"] is False
    assert report["first_broken"].startswith(f"{complaint.tracking_no} event 1 field status:")


def test_verify_ledger_checks_an_exported_digest(make_case, tmp_path):
    make_case()
    run("seal_ledger", "--settle", "0")
    exported = run("ledger_digest")
    (tmp_path / "digest.json").write_text(exported)
    assert "Ledger intact" in run("verify_ledger", "--digest", exported)
    assert "Ledger intact" in run("verify_ledger", "--digest", str(tmp_path / "digest.json"))
    forged = json.dumps({**json.loads(exported), "hash": "a" * 64})
    with pytest.raises(CommandError):
        run("verify_ledger", "--digest", forged)
    with pytest.raises(CommandError, match="not a ledger digest"):
        run("verify_ledger", "--digest", "{}")


def test_seal_ledger_leaves_unsettled_events_unless_told(make_case):
    complaint = make_case(worked=False)
    assert run("seal_ledger").strip() == "Nothing to seal."  # the event is younger than 5 s
    out = run("seal_ledger", "--settle", "0")
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.heads == [[complaint.pk, 1, complaint.ledger_events.get().hash]]
    assert out.strip() == (
        f"Checkpoint 1 seals 1 case head(s) up to event id {checkpoint.last_event_id}: {checkpoint.hash}"
    )
    assert run("seal_ledger", "--settle", "0").strip() == "Nothing to seal."


def test_ledger_digest_prints_the_checkpoint_head_the_event_count_and_the_time(make_case):
    with time_machine.travel(datetime(2026, 11, 23, 9, 30, tzinfo=UTC), tick=False):
        empty = json.loads(run("ledger_digest"))
    assert empty == {
        "seq": 0,
        "hash": chain.GENESIS,
        "at": None,
        "last_event_id": None,
        "events": 0,
        "side_chains": {"retention_runs": {"seq": 0, "hash": chain.GENESIS}},
        "taken_at": "2026-11-23T09:30:00.000000+00:00",
    }
    make_case(worked=False)
    run("seal_ledger", "--settle", "0")
    make_case(worked=False)
    run("seal_ledger", "--settle", "0")
    make_case(worked=False)  # not sealed yet: counted all the same
    head = Checkpoint.objects.get(seq=2)
    digest = json.loads(run("ledger_digest"))
    assert {key: digest[key] for key in ("seq", "hash", "at", "last_event_id")} == chain.digest()
    assert (digest["seq"], digest["hash"], digest["events"]) == (2, head.hash, 3)


def test_ledger_digest_seal_first_covers_every_committed_event(make_case):
    make_case(worked=False)
    digest = json.loads(run("ledger_digest", "--seal"))
    assert (digest["seq"], digest["events"]) == (1, 1)
    assert digest["hash"] == Checkpoint.objects.get().hash
