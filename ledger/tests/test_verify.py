"""verify() on an intact ledger and on every kind of tampering someone with database access could try."""

import pytest

from complaints.models import Complaint
from ledger import chain
from ledger.models import Checkpoint, LedgerEvent
from ledger.verify import verify

from .helpers import WORKED_EVENTS, event, rechain, seal_now

pytestmark = pytest.mark.django_db


def only_problem_about(report, text: str) -> str:  # type: ignore[no-untyped-def]
    """The report is broken, and its first problem mentions `text`."""
    assert not report.ok
    assert report.first_broken == report.problems[0]
    assert text in report.first_broken, report.problems
    return report.first_broken


def test_intact_ledger_verifies(make_case):
    cases = [make_case(), make_case(worked=False), make_case(complainant_name="李四")]
    seal_now()
    cases.append(make_case())  # moved after the checkpoint: not sealed yet, still verified
    report = verify()
    assert report.ok, report.problems
    assert report.problems == [] and report.first_broken is None
    assert report.cases == 4
    assert report.events == 3 * WORKED_EVENTS + 1
    assert report.checkpoints == 1
    assert [c.version for c in cases] == [WORKED_EVENTS, 1, WORKED_EVENTS, WORKED_EVENTS]


def test_editing_an_events_changes_is_caught_naming_the_event(make_case):
    complaint = make_case()
    accepted = event(complaint, 2)
    changes = accepted.changes
    changes["priority"] = ["P3", "P4"]
    LedgerEvent.objects.filter(pk=accepted.pk).update(changes=changes)
    problem = only_problem_about(verify(), f"{complaint.tracking_no} event 2: hash mismatch")
    assert f"stored {accepted.hash[:12]}" in problem


def test_editing_an_events_data_is_caught_naming_the_event(make_case):
    complaint = make_case()
    LedgerEvent.objects.filter(complaint=complaint, seq=4).update(data={"note": "nothing happened"})
    only_problem_about(verify(), f"{complaint.tracking_no} event 4: hash mismatch")


def test_editing_an_event_and_its_hash_breaks_the_next_link(make_case):
    complaint = make_case()
    noted = event(complaint, 4)
    noted.actor_label = "supervisor"
    LedgerEvent.objects.filter(pk=noted.pk).update(actor_label="supervisor", hash=chain.event_hash(noted))
    only_problem_about(verify(), f"{complaint.tracking_no} event 5: does not link to event 4")


def test_deleting_a_middle_event_is_caught_as_a_gap(make_case):
    complaint = make_case()
    LedgerEvent.objects.filter(complaint=complaint, seq=3).delete()
    only_problem_about(verify(), f"{complaint.tracking_no} event 3: missing (the chain jumps from 2 to 4)")


def test_deleting_the_last_event_is_caught_by_version_and_replay(make_case):
    complaint = make_case()
    LedgerEvent.objects.filter(complaint=complaint, seq=WORKED_EVENTS).delete()
    report = verify()
    assert not report.ok
    assert f"{complaint.tracking_no}: version 5 but the ledger holds 4 writes (head event 4)" in report.problems
    # The proposal (status, text, amount) is on the row but no longer in the ledger.
    assert any(f"{complaint.tracking_no} event 3 field status:" in p for p in report.problems), report.problems
    assert any("field proposal_text: case row differs" in p for p in report.problems), report.problems


def test_swapping_two_events_is_caught(make_case):
    complaint = make_case()
    second, third = event(complaint, 2), event(complaint, 3)
    # (complaint, seq) is unique: go through a free seq.
    LedgerEvent.objects.filter(pk=second.pk).update(seq=1000)
    LedgerEvent.objects.filter(pk=third.pk).update(seq=2)
    LedgerEvent.objects.filter(pk=second.pk).update(seq=3)
    report = verify()
    only_problem_about(report, f"{complaint.tracking_no} event 2:")
    assert f"{complaint.tracking_no} event 3: hash mismatch" in "\n".join(report.problems)


def test_editing_the_case_row_behind_the_applications_back_names_the_field(make_case):
    complaint = make_case()
    Complaint.objects.filter(pk=complaint.pk).update(priority="P1")
    problem = only_problem_about(verify(), f"{complaint.tracking_no} event 2 field priority:")
    assert "case row has 'P1', ledger replay gives 'P2'" in problem


def test_editing_the_status_behind_the_applications_back_is_caught(make_case):
    complaint = make_case()
    Complaint.objects.filter(pk=complaint.pk).update(status="closed")
    report = verify()
    assert report.problems == [
        f"{complaint.tracking_no} event 5 field status: "
        "case row has 'closed', ledger replay gives 'resolution_proposed'"
    ]


def test_editing_personal_data_on_the_row_is_caught_without_printing_it(make_case):
    complaint = make_case()
    Complaint.objects.filter(pk=complaint.pk).update(complainant_phone="13900000000")
    problem = only_problem_about(verify(), f"{complaint.tracking_no} event 1 field complainant_phone:")
    assert "13900000000" not in problem and "138" not in problem


def test_bumping_the_version_is_caught(make_case):
    complaint = make_case()
    Complaint.objects.filter(pk=complaint.pk).update(version=WORKED_EVENTS + 1)
    only_problem_about(verify(), f"{complaint.tracking_no}: version 6 but the ledger holds 5 writes (head event 5)")


def test_editing_a_checkpoints_heads_is_caught(make_case):
    complaint = make_case()
    make_case()
    checkpoint = seal_now()
    heads = [[cid, seq, "0" * 64 if cid == complaint.pk else h] for cid, seq, h in checkpoint.heads]
    Checkpoint.objects.filter(pk=checkpoint.pk).update(heads=heads)
    report = verify()
    only_problem_about(report, "checkpoint 1: hash mismatch")
    assert f"checkpoint 1: sealed head {complaint.tracking_no} event 5 was rewritten" in report.problems[1]


def test_editing_a_checkpoints_hash_is_caught(make_case):
    make_case()
    first = seal_now()
    make_case()
    seal_now()
    Checkpoint.objects.filter(pk=first.pk).update(hash="f" * 64)
    report = verify()
    only_problem_about(report, "checkpoint 1: hash mismatch")
    assert report.problems[1].startswith("checkpoint 2: does not link to checkpoint 1")


def test_deleting_a_checkpoint_is_caught(make_case):
    for _ in range(3):
        make_case(worked=False)
        seal_now()
    Checkpoint.objects.filter(seq=2).delete()
    only_problem_about(verify(), "checkpoint 2: missing")


def test_deleting_a_sealed_event_and_rechaining_the_case_is_caught_by_the_checkpoint(make_case):
    complaint = make_case()
    seal_now()
    LedgerEvent.objects.filter(complaint=complaint, seq=4).delete()  # the internal note
    rechain(complaint)
    Complaint.objects.filter(pk=complaint.pk).update(version=WORKED_EVENTS - 1)
    report = verify()
    # The case chain itself is consistent again: only the sealed head gives it away.
    assert report.problems == [f"checkpoint 1: sealed head {complaint.tracking_no} event 5 is missing from the ledger"]


def test_rewriting_a_sealed_head_and_rechaining_is_caught_by_the_checkpoint(make_case):
    complaint = make_case()
    seal_now()
    head = event(complaint, WORKED_EVENTS)
    LedgerEvent.objects.filter(pk=head.pk).update(actor_label="someone else")
    rechain(complaint)
    report = verify()
    assert report.problems == [
        f"checkpoint 1: sealed head {complaint.tracking_no} event 5 was rewritten "
        f"(sealed {head.hash[:12]}…, now {event(complaint, WORKED_EVENTS).hash[:12]}…)"
    ]


def test_a_rewritten_whole_database_is_caught_by_the_exported_digest(make_case):
    make_case()
    seal_now()
    exported = chain.digest()
    assert verify(digest=exported).ok
    # Someone recomputes the checkpoint chain too: only the digest kept outside tells.
    checkpoint = Checkpoint.objects.get(seq=1)
    checkpoint.heads = []
    checkpoint.hash = chain.checkpoint_hash(checkpoint)
    checkpoint.save()
    report = verify(digest=exported)
    assert report.problems == [
        f"checkpoint 1: differs from the exported digest (digest {exported['hash'][:12]}…, now {checkpoint.hash[:12]}…)"
    ]
    assert verify(digest={"seq": 2, "hash": exported["hash"]}).first_broken == (
        "checkpoint 2: named by the exported digest but missing (the chain ends at 1)"
    )


def test_problems_are_listed_up_to_the_limit_and_counted_beyond(make_case):
    cases = [make_case(worked=False) for _ in range(3)]
    Complaint.objects.filter(pk__in=[c.pk for c in cases]).update(priority="P1")
    report = verify(limit_problems=2)
    assert len(report.problems) == 2 and report.more_problems == 1
    assert report.first_broken == report.problems[0]


def test_a_case_without_events_is_caught(make_case):
    complaint = make_case(worked=False)
    LedgerEvent.objects.filter(complaint=complaint).delete()
    only_problem_about(verify(), f"{complaint.tracking_no}: no ledger events")


def test_an_undecryptable_event_is_reported_not_raised(make_case):
    complaint = make_case(worked=False)
    received = event(complaint, 1)
    changes = received.changes
    token = changes["complainant_name"][1]
    token["enc"] = token["enc"][:-4] + ("AAAA" if token["enc"][-4:] != "AAAA" else "BBBB")
    LedgerEvent.objects.filter(pk=received.pk).update(changes=changes)
    report = verify()
    assert report.problems[:2] == [
        f"{complaint.tracking_no} event 1: hash mismatch (stored {received.hash[:12]}…, recomputed "
        f"{chain.event_hash(event(complaint, 1))[:12]}…)",
        f"{complaint.tracking_no} event 1: cannot be replayed (InvalidTag)",
    ]


def test_cases_are_verified_across_batches(make_case, monkeypatch):
    from ledger import verify as module

    monkeypatch.setattr(module, "CASE_BATCH", 2)
    monkeypatch.setattr(module, "HEAD_BATCH", 2)
    cases = [make_case(worked=False) for _ in range(5)]
    seal_now()
    assert verify().ok
    LedgerEvent.objects.filter(complaint=cases[4]).update(actor="system")
    resealed = event(cases[3], 1)
    resealed.actor = "system"
    LedgerEvent.objects.filter(pk=resealed.pk).update(actor="system", hash=chain.event_hash(resealed))
    report = verify()
    assert report.cases == 5 and report.events == 5
    assert [p.split(" (")[0] for p in report.problems] == [
        f"{cases[4].tracking_no} event 1: hash mismatch",
        f"checkpoint 1: sealed head {cases[3].tracking_no} event 1 was rewritten",
    ]
