"""External routes over the API: a regulator referral with its due date, documents both ways, the
outcome; the case stays `external` (clock paused) until the outcome. Permissions per persona."""

from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.choices import Status
from complaints.models import Complaint
from dossier.models import ExternalDocument, ExternalProceeding
from evidence.models import Evidence
from ledger.models import LedgerEvent
from ledger.verify import verify as verify_ledger

from .conftest import pdf_bytes


def upload(api, tracking_no, proceeding_id, **fields):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {
        "file": SimpleUploadedFile("答辩状.pdf", pdf_bytes(), content_type="application/pdf"),
        "direction": "sent",
        "exchanged_on": timezone.localdate().isoformat(),
        "description": "我方提交的书面答复",
        **fields,
    }
    return api.client.post(
        f"/api/v1/complaints/{tracking_no}/proceedings/{proceeding_id}/documents", data, headers=api.headers
    )


def test_regulator_referral_with_documents_and_outcome(case, cast, api_as):
    api = api_as(cast.agent)
    no = case.tracking_no
    refused = api.post(f"/complaints/{no}/proceedings", {"route": "regulator", "body": "深圳市南山区市场监督管理局"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "due_at"
    assert Complaint.objects.get(pk=case.pk).status == Status.IN_PROGRESS

    due = (timezone.localdate() + timedelta(days=15)).isoformat()
    response = api.post(
        f"/complaints/{no}/proceedings",
        {"route": "regulator", "body": "深圳市南山区市场监督管理局", "reference": "12315-20260301-0001", "due_at": due},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == Status.EXTERNAL
    [proceeding] = body["proceedings"]
    assert proceeding["open"] and proceeding["route"] == "regulator" and not proceeding["overdue"]
    c = Complaint.objects.get(pk=case.pk)
    # The regulator's date: end of that day, organisation time zone; the case's own clock pauses.
    assert timezone.localtime(c.regulator_due_at).date().isoformat() == due
    assert c.external_due_at == c.regulator_due_at and c.sla_paused_at is not None
    assert body["may"]["record_external_outcome"] and not body["may"]["route_external"]

    pid = proceeding["id"]
    assert upload(api, no, pid).status_code == 201
    received = upload(api, no, pid, direction="received", description="市场监管局转办函")
    assert received.status_code == 201
    docs = received.json()["proceedings"][0]["documents"]
    assert [d["direction"] for d in docs] == ["sent", "received"]
    assert Evidence.objects.filter(complaint=case).count() == 2
    assert ExternalDocument.objects.filter(proceeding_id=pid).count() == 2
    bad = upload(api, no, pid, direction="sideways", description="x")
    assert bad.status_code == 422
    assert Complaint.objects.get(pk=case.pk).status == Status.EXTERNAL  # documents do not end it

    done = api.post(
        f"/complaints/{no}/proceedings/outcome",
        {"resolved": False, "note": "市场监管局退回企业处理，限期答复", "decision": "returned"},
    )
    assert done.status_code == 200, done.content
    c = Complaint.objects.get(pk=case.pk)
    assert c.status == Status.IN_PROGRESS and c.sla_paused_at is None
    assert c.resolution_due_at == c.regulator_due_at  # the regulator's date stays the deadline
    p = ExternalProceeding.objects.get(pk=pid)
    assert p.closed_at is not None and p.decision == "returned" and p.resolved is False
    actions = list(LedgerEvent.objects.filter(complaint=case).values_list("action", flat=True))
    assert actions.count("add_external_document") == 2 and actions.count("add_evidence") == 2
    assert verify_ledger().ok


def test_mediation_resolves_the_case_with_an_amount(case, cast, api_as):
    api = api_as(cast.supervisor)
    no = case.tracking_no
    assert (
        api.post(f"/complaints/{no}/proceedings", {"route": "mediation", "body": "深圳市消费者委员会"}).status_code
        == 201
    )
    c = Complaint.objects.get(pk=case.pk)
    assert c.status == Status.EXTERNAL and c.regulator_due_at is None
    bad = api.post(f"/complaints/{no}/proceedings/outcome", {"resolved": True, "note": "调解成功", "amount": "-5"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "amount"
    ok = api.post(
        f"/complaints/{no}/proceedings/outcome",
        {"resolved": True, "note": "调解达成，退款并赔偿 500 元", "decision": "settled", "amount": "500"},
    )
    assert ok.status_code == 200
    c = Complaint.objects.get(pk=case.pk)
    assert c.status == Status.RESOLVED and c.outcome == "external_decision"
    assert ok.json()["proceedings"][0]["amount"] == "500.00"
    again = api.post(f"/complaints/{no}/proceedings/outcome", {"resolved": True, "note": "再次登记"})
    assert again.status_code == 409


def test_a_stale_version_changes_nothing(case, cast, api_as):
    api = api_as(cast.agent)
    response = api.post(
        f"/complaints/{case.tracking_no}/proceedings",
        {"route": "litigation", "body": "南山区人民法院"},
        headers={"If-Match": f'"{case.version - 1}"'},
    )
    assert response.status_code == 412
    assert not ExternalProceeding.objects.exists()


def test_the_old_lifecycle_endpoint_still_routes_out(case, cast, api_as):
    """complaints.api's /external (no body named) opens a proceeding too."""
    response = api_as(cast.agent).post(
        f"/complaints/{case.tracking_no}/external",
        {"route": "arbitration", "reference": "深仲字第1号", "version": case.version},
    )
    assert response.status_code == 200, response.content
    assert ExternalProceeding.objects.get(complaint=case).route == "arbitration"


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        (None, 401),
        ("analyst", 403),
        ("auditor", 403),
        ("handler", 404),  # another department: the case does not exist for them
        ("outsider", 404),
        ("legal", 404),  # legal/PR see level-3, flagged or shared cases only
        ("agent2", 403),  # same department, not the owner
        ("agent", 201),
    ],
)
def test_who_may_route_out(case, cast, api_as, persona, expected):
    api = api_as(getattr(cast, persona) if persona else None)
    response = api.post(f"/complaints/{case.tracking_no}/proceedings", {"route": "mediation", "body": "消费者协会"})
    assert response.status_code == expected, response.content
    assert ExternalProceeding.objects.exists() == (expected == 201)


def test_who_may_read_and_download(case_with_evidence, cast, api_as):
    no = case_with_evidence.tracking_no
    assert api_as(None).get(f"/complaints/{no}/proceedings").status_code == 401
    assert api_as(cast.outsider).get(f"/complaints/{no}/proceedings").status_code == 404
    assert api_as(cast.auditor).get(f"/complaints/{no}/proceedings").status_code == 200
    assert api_as(cast.auditor).post(f"/complaints/{no}/dossier").status_code == 403
    assert api_as(cast.outsider).post(f"/complaints/{no}/dossier").status_code == 404
    response = api_as(cast.agent).post(f"/complaints/{no}/dossier")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    content = b"".join(response.streaming_content)
    assert content[:2] == b"PK"
    event = LedgerEvent.objects.filter(complaint=case_with_evidence).order_by("-seq").first()
    assert event.action == "export_dossier"
    assert event.data["manifest_sha256"] == response["X-Dossier-Manifest-SHA256"]


def test_another_cases_proceeding_is_not_found(case, cast, api_as, body, org):
    from .conftest import case_in_progress

    other = case_in_progress(cast, body, org_unit=org.store_sz.pk)
    api = api_as(cast.agent)
    api.post(f"/complaints/{other.tracking_no}/proceedings", {"route": "mediation", "body": "消费者协会"})
    api.post(f"/complaints/{case.tracking_no}/proceedings", {"route": "mediation", "body": "消费者协会"})
    foreign = ExternalProceeding.objects.get(complaint=other)
    assert upload(api, case.tracking_no, foreign.pk).status_code == 404
