"""Possible duplicates at intake (same complainant, similar text, within the window), confirmed by a
merge that keeps both histories, evidence and ledger trails, or dismissed."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from complaints import actions
from complaints.choices import RiskFlag, Status
from complaints.duplicates import similarity
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint, DuplicateLink
from evidence.actions import add_evidence
from evidence.tests import samples
from ledger.models import LedgerEvent
from ledger.verify import verify


@pytest.fixture
def file(body, django_capture_on_commit_callbacks):
    """File a complaint and run what follows its commit (the after-intake task looks for duplicates)."""

    def submit(**overrides):
        with django_capture_on_commit_callbacks(execute=True):
            complaint, code = actions.submit(
                check_intake(IntakeData(**body(**overrides)), staff=False), actor=Actor.consumer()
            )
        return Complaint.objects.get(pk=complaint.pk), code

    return submit


def test_similarity_of_chinese_and_english_texts():
    a = "购买的电热水壶使用三天后漏电，要求退款并赔偿。"
    assert similarity(a, "电热水壶用了三天就漏电，要求退款并赔偿！") > 0.4
    assert similarity(a, "快递延误一周，客服不回复。") < 0.1
    assert similarity("The kettle leaks electricity after three days", "Kettle leaks electricity after 3 days") > 0.5


def test_the_same_complainant_with_similar_text_is_linked_for_the_agent(cast, file):
    first, _ = file()
    second, _ = file(description="电热水壶使用三天就漏电了，要求退款并赔偿，请尽快处理。", complainant_email="")
    [link] = DuplicateLink.objects.filter(complaint=second)
    assert link.candidate == first and link.status == "suspected" and link.score >= 0.4
    assert RiskFlag.REPEAT in second.risk_flags
    event = LedgerEvent.objects.get(complaint=second, action="suspect_duplicate")
    assert event.data["candidates"][0][0] == first.tracking_no and event.actor == "system"
    assert verify().ok


def test_other_people_other_texts_and_old_cases_are_not_linked(cast, file):
    file()
    file(complainant_phone="13700137000", complainant_email="other@example.com")  # someone else
    file(description="快递送错地址，包裹至今没有找到，要求赔偿。")  # another matter
    with time_machine.travel(timezone.now() + timedelta(days=45)):
        file()  # the same, but beyond the 30-day window
    assert not DuplicateLink.objects.exists()


def test_a_case_stored_after_a_later_one_links_that_one_when_asked(cast, file):
    """Imports (files not sorted by date) look both ways: the later open case becomes the duplicate."""
    from complaints.duplicates import find_duplicates

    later, _ = file()
    earlier, _ = file(description="电热水壶使用三天就漏电了，要求退款并赔偿，请尽快处理。", complainant_email="")
    Complaint.objects.filter(pk=earlier.pk).update(received_at=later.received_at - timedelta(days=3))
    DuplicateLink.objects.all().delete()  # as if `earlier` had just been imported, after `later`
    assert find_duplicates(earlier.pk) == []  # intake's check: earlier cases only
    [link] = find_duplicates(earlier.pk, later=True)
    assert (link.complaint, link.candidate) == (later, earlier)
    later.refresh_from_db()
    assert RiskFlag.REPEAT in later.risk_flags
    assert LedgerEvent.objects.get(complaint=later, action="suspect_duplicate").data["candidates"][0][0] == (
        earlier.tracking_no
    )
    # Asking again links nothing new and records nothing more.
    assert find_duplicates(earlier.pk, later=True) == [link]
    assert LedgerEvent.objects.filter(complaint=later, action="suspect_duplicate").count() == 1
    # A later case no longer open is left alone (the rows are edited behind the ledger's back here).
    DuplicateLink.objects.all().delete()
    Complaint.objects.filter(pk=later.pk).update(status=Status.CLOSED)
    assert find_duplicates(earlier.pk, later=True) == []


def test_a_merge_keeps_both_histories_evidence_and_chains(cast, file, api_as):
    first, _ = file()
    second, code = file()
    add_evidence(
        second, content=samples.png(), filename="照片.png", kind="complaint_material", actor=Actor.consumer(), via="web"
    )
    second.refresh_from_db()
    agent = api_as(cast.supervisor)
    listed = agent.get(f"/complaints/{second.tracking_no}/duplicates").json()
    assert [d["candidate"] for d in listed] == [first.tracking_no]
    merged = agent.post(
        f"/complaints/{second.tracking_no}/merge", {"into": first.tracking_no, "version": second.version}
    )
    assert merged.status_code == 200, merged.content
    second.refresh_from_db()
    assert second.status == Status.MERGED and second.merged_into == first
    assert DuplicateLink.objects.get(complaint=second).status == "confirmed"
    assert LedgerEvent.objects.get(complaint=second, action="merge").data["into"] == first.tracking_no
    assert LedgerEvent.objects.get(complaint=first, action="absorb").data["merged"] == second.tracking_no
    # the evidence stays with its case and shows on the case it was merged into
    evidence = agent.get(f"/complaints/{first.tracking_no}/evidence").json()
    assert [(e["filename"], e["tracking_no"]) for e in evidence] == [("照片.png", second.tracking_no)]
    # a merged case leaves the queue; its consumer is told
    queue = Client()
    queue.force_login(cast.supervisor)
    listed_page = queue.get("/staff/?scope=department").content.decode()
    assert first.tracking_no in listed_page and second.tracking_no not in listed_page
    status = agent.client.get(f"/api/v1/public/complaints/{second.tracking_no}", headers={"X-Access-Code": code}).json()
    assert status["status"] == "merged" and status["timeline"][-1]["event"] == "merge"
    assert verify().ok


def test_merge_refusals(cast, file, api_as):
    first, _ = file()
    second, _ = file()
    path = f"/complaints/{second.tracking_no}/merge"
    assert api_as(cast.outsider).post(path, {"into": first.tracking_no, "version": second.version}).status_code == 404
    assert api_as(cast.analyst).post(path, {"into": first.tracking_no, "version": second.version}).status_code == 403
    itself = api_as(cast.supervisor).post(path, {"into": second.tracking_no, "version": second.version})
    assert itself.status_code == 422 and itself.json()["errors"][0]["field"] == "into"
    unknown = api_as(cast.supervisor).post(path, {"into": "TS20990101-000001", "version": second.version})
    assert unknown.status_code == 422
    stale = api_as(cast.supervisor).post(path, {"into": first.tracking_no, "version": second.version + 5})
    assert stale.status_code == 409
    assert Complaint.objects.get(pk=second.pk).status == Status.NEW


def test_agent_dismisses_a_suspected_duplicate_on_the_case_page(cast, file):
    first, _ = file()
    second, _ = file()
    link = DuplicateLink.objects.get(complaint=second)
    client = Client()
    client.force_login(cast.agent)
    page = client.get(f"/staff/cases/{second.tracking_no}/").content.decode()
    assert first.tracking_no in page and f'id="dismiss-{link.pk}"' in page and f'id="merge-{link.pk}"' in page
    response = client.post(f"/staff/cases/{second.tracking_no}/duplicates/{link.pk}/dismiss/")
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.status == "dismissed" and link.decided_by == cast.agent
    assert LedgerEvent.objects.filter(complaint=second, action="dismiss_duplicate").exists()
    again = client.post(f"/staff/cases/{second.tracking_no}/duplicates/{link.pk}/dismiss/")
    assert again.status_code == 422 and "已处理" in again.content.decode()


def test_agent_merges_on_the_case_page_and_lands_on_the_kept_case(cast, file):
    first, _ = file()
    second, _ = file()
    link = DuplicateLink.objects.get(complaint=second)
    client = Client()
    client.force_login(cast.agent)
    response = client.post(
        f"/staff/cases/{second.tracking_no}/merge/", {"into": first.tracking_no, "version": second.version}
    )
    assert response.status_code == 302 and response["Location"].endswith(f"/staff/cases/{first.tracking_no}/")
    kept = client.get(response["Location"]).content.decode()
    assert second.tracking_no in kept and "并入本投诉的重复投诉" in kept
    assert Complaint.objects.get(pk=second.pk).status == Status.MERGED
    assert link.pk


def test_case_page_says_how_often_and_when_the_complainant_complained(cast, file):
    file(description="冰箱不制冷，要求上门维修。")
    file(description="洗衣机噪音很大，要求更换。")
    third, _ = file()
    client = Client()
    client.force_login(cast.agent)
    page = client.get(f"/staff/cases/{third.tracking_no}/").content.decode()
    assert 'id="complaint-count"' in page and "3" in page.split('id="complaint-count"')[1][:80]
