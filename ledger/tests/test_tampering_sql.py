"""Tampering done the way a database administrator would do it, with raw SQL on the tables, caught by
`complaintdesk verify_ledger` with and without `--against` a digest exported before the tampering.

The case is made through the real actions and sealed by a checkpoint; the digest is exported to a
file by `ledger_digest --out`, as the daily job does."""

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from complaints.ledgering import Actor
from complaints.models import Complaint
from ledger import chain
from ledger.models import Checkpoint, LedgerEvent
from privacy.audit import record_personal_access

from .helpers import WORKED_EVENTS, event, rechain, seal_now

pytestmark = pytest.mark.django_db


def sql(statement: str, *params: Any) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def verify_ledger(*args: str) -> tuple[int, list[str]]:
    """The command's exit status and output lines."""
    out = StringIO()
    try:
        call_command("verify_ledger", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue().splitlines()
    return 0, out.getvalue().splitlines()


def export_digest(folder: Path) -> Path:
    out = StringIO()
    call_command("ledger_digest", "--out", str(folder), stdout=out)
    [path] = folder.glob("ledger-digest-*.json")
    assert str(path) in out.getvalue()
    return path


@pytest.fixture
def sealed(make_case, tmp_path):  # type: ignore[no-untyped-def]
    """A worked case (5 events), sealed, and the digest exported after it."""
    complaint = make_case()
    seal_now()
    digest = export_digest(tmp_path)
    assert json.loads(digest.read_text())["events"] == WORKED_EVENTS
    assert verify_ledger() == (0, [f"Ledger intact: 1 cases, {WORKED_EVENTS} events, 1 checkpoints."])
    assert verify_ledger("--against", str(digest))[0] == 0
    return complaint, digest


def first_broken(lines: list[str]) -> str:
    [line] = [line for line in lines if line.startswith("First broken: ")]
    return line.removeprefix("First broken: ")


def shift_seqs(complaint: Complaint, from_seq: int, by: int) -> None:
    """Move events from_seq.. by `by` places; (complaint, seq) is unique, so through a free range."""
    sql("UPDATE ledger_ledgerevent SET seq = seq + 1000 WHERE complaint_id = %s AND seq >= %s", complaint.pk, from_seq)
    sql("UPDATE ledger_ledgerevent SET seq = seq - %s WHERE complaint_id = %s AND seq > 1000", 1000 - by, complaint.pk)


def insert_forged(complaint: Complaint, *, seq: int, after: LedgerEvent, like: LedgerEvent, label: str) -> str:
    """Insert an event at `seq` linked to `after`, a copy of `like` by someone else, with a hash that
    recomputes: all a forger who knows the algorithm can do. Returns its hash."""
    forged = LedgerEvent(
        complaint_id=complaint.pk,
        seq=seq,
        action=like.action,
        actor=like.actor,
        actor_label=label,
        changes=like.changes,
        data=like.data,
        created_at=like.created_at,
        prev_hash=after.hash,
    )
    forged.hash = chain.event_hash(forged)
    sql(
        "INSERT INTO ledger_ledgerevent (complaint_id, seq, action, actor, actor_label, changes, data, created_at, "
        "prev_hash, hash) SELECT complaint_id, %s, action, actor, %s, changes, data, created_at, %s, %s "
        "FROM ledger_ledgerevent WHERE id = %s",
        seq,
        label,
        after.hash,
        forged.hash,
        like.pk,
    )
    return forged.hash


def test_an_event_edited_with_sql_is_caught_with_and_without_the_digest(sealed):
    complaint, digest = sealed
    noted = event(complaint, 4)
    assert sql(
        "UPDATE ledger_ledgerevent SET actor_label = %s WHERE complaint_id = %s AND seq = %s",
        "supervisor",
        complaint.pk,
        4,
    )
    for args in [(), ("--against", str(digest))]:
        status, lines = verify_ledger(*args)
        assert status == 1
        assert lines[0].startswith("Ledger BROKEN: 1 problem(s)")
        assert first_broken(lines) == (
            f"{complaint.tracking_no} event 4: hash mismatch (stored {noted.hash[:12]}…, "
            f"recomputed {chain.event_hash(event(complaint, 4))[:12]}…)"
        )


def test_an_event_deleted_with_sql_is_caught_and_the_digest_counts_it_missing(sealed):
    complaint, digest = sealed
    assert sql("DELETE FROM ledger_ledgerevent WHERE complaint_id = %s AND seq = %s", complaint.pk, 3) == 1
    gap = f"{complaint.tracking_no} event 3: missing (the chain jumps from 2 to 4)"
    status, lines = verify_ledger()
    assert status == 1 and first_broken(lines) == gap
    status, lines = verify_ledger("--against", str(digest))
    assert status == 1 and first_broken(lines) == gap
    assert "  - ledger: 4 events, fewer than the 5 the exported digest counted (1 deleted)" in lines


def test_an_event_inserted_with_sql_is_caught_even_with_a_hash_that_recomputes(sealed):
    complaint, digest = sealed
    accepted, noted = event(complaint, 2), event(complaint, 4)
    shift_seqs(complaint, 3, by=1)
    insert_forged(complaint, seq=3, after=accepted, like=noted, label="supervisor")
    assert LedgerEvent.objects.filter(complaint=complaint).count() == WORKED_EVENTS + 1
    for args in [(), ("--against", str(digest))]:
        status, lines = verify_ledger(*args)
        assert status == 1
        # The forged event links and recomputes; the one it was slipped in front of does not.
        assert first_broken(lines).startswith(f"{complaint.tracking_no} event 4: does not link to event 3 (")
        assert f"  - {complaint.tracking_no}: version 5 but the ledger holds 6 writes (head event 6)" in lines
        assert any("checkpoint 1: sealed head" in line and "event 5 was rewritten" in line for line in lines)


def test_two_events_reordered_with_sql_are_caught(sealed):
    complaint, digest = sealed
    second = event(complaint, 2)
    sql("UPDATE ledger_ledgerevent SET seq = 1000 WHERE complaint_id = %s AND seq = 2", complaint.pk)
    sql("UPDATE ledger_ledgerevent SET seq = 2 WHERE complaint_id = %s AND seq = 3", complaint.pk)
    sql("UPDATE ledger_ledgerevent SET seq = 3 WHERE complaint_id = %s AND seq = 1000", complaint.pk)
    assert event(complaint, 3).hash == second.hash
    for args in [(), ("--against", str(digest))]:
        status, lines = verify_ledger(*args)
        assert status == 1
        assert first_broken(lines).startswith(f"{complaint.tracking_no} event 2: does not link to event 1 (")
        assert any(line.startswith(f"  - {complaint.tracking_no} event 3: hash mismatch") for line in lines)


def test_a_tail_cut_off_after_the_digest_verifies_by_itself_but_not_against_the_digest(make_case, cast, tmp_path):
    complaint = make_case()
    seal_now()
    # Someone reads the complainant's personal data (a recorded view), and the next round seals it.
    record_personal_access([complaint.pk], actor=Actor.staff(cast.agent), how="case_page")
    seal_now()
    digest = export_digest(tmp_path)
    assert json.loads(digest.read_text())["seq"] == 2
    # They cut the chains back to the earlier head: the view, its checkpoint, and the sealed head.
    sql("DELETE FROM ledger_ledgerevent WHERE complaint_id = %s AND seq = %s", complaint.pk, WORKED_EVENTS + 1)
    sql("DELETE FROM ledger_checkpoint WHERE seq = %s", 2)
    sql("UPDATE ledger_sealedhead SET seq = %s WHERE complaint_id = %s", WORKED_EVENTS, complaint.pk)

    assert verify_ledger() == (0, [f"Ledger intact: 1 cases, {WORKED_EVENTS} events, 1 checkpoints."])
    status, lines = verify_ledger("--against", str(digest))
    assert status == 1
    assert first_broken(lines) == "checkpoint 2: named by the exported digest but missing (the chain ends at 1)"
    assert lines[-1] == f"  - ledger: {WORKED_EVENTS} events, fewer than the 6 the exported digest counted (1 deleted)"


def test_an_insert_with_the_chains_and_checkpoints_recomputed_is_caught_only_by_the_digest(sealed):
    complaint, digest = sealed
    accepted, noted = event(complaint, 2), event(complaint, 4)
    shift_seqs(complaint, 3, by=1)
    insert_forged(complaint, seq=3, after=accepted, like=noted, label="supervisor")
    rechain(complaint)  # every later link recomputed
    sql("UPDATE complaints_complaint SET version = version + 1 WHERE id = %s", complaint.pk)
    # ...and the checkpoint chain too: the checkpoint seals the new head.
    checkpoint = Checkpoint.objects.get(seq=1)
    head = event(complaint, WORKED_EVENTS + 1)
    checkpoint.heads = [[complaint.pk, head.seq, head.hash]]
    checkpoint.hash = chain.checkpoint_hash(checkpoint)
    heads = json.dumps(checkpoint.heads)
    sql("UPDATE ledger_checkpoint SET heads = %s, hash = %s WHERE seq = 1", heads, checkpoint.hash)
    sql("UPDATE ledger_sealedhead SET seq = %s WHERE complaint_id = %s", head.seq, complaint.pk)

    status, lines = verify_ledger()
    assert (status, lines[0]) == (0, f"Ledger intact: 1 cases, {WORKED_EVENTS + 1} events, 1 checkpoints.")
    exported = json.loads(digest.read_text())
    status, lines = verify_ledger("--against", str(digest))
    assert status == 1
    assert first_broken(lines) == (
        f"checkpoint 1: differs from the exported digest (digest {exported['hash'][:12]}…, now {checkpoint.hash[:12]}…)"
    )


def test_a_forged_event_appended_after_the_digest_is_beyond_what_any_hash_can_catch(sealed):
    """The limit docs/ledger.md states: with no secret key in the chain, an append made with SQL, chained
    and with the case row brought along, verifies with and without the digest (it seals only what came before)."""
    complaint, digest = sealed
    head, noted = event(complaint, WORKED_EVENTS), event(complaint, 4)
    insert_forged(complaint, seq=WORKED_EVENTS + 1, after=head, like=noted, label="supervisor")
    sql("UPDATE complaints_complaint SET version = version + 1 WHERE id = %s", complaint.pk)
    intact = f"Ledger intact: 1 cases, {WORKED_EVENTS + 1} events, 1 checkpoints."
    assert verify_ledger() == (0, [intact])
    status, lines = verify_ledger("--against", str(digest))
    assert (status, lines[0]) == (0, intact)
