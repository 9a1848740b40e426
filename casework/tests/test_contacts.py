"""The contact log (沟通记录): the action, the API, its ledger events, and who may write it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casework import actions
from casework.models import Contact
from complaints import actions as case_actions
from complaints.ledgering import Actor
from core.errors import ValidationError
from evidence.actions import add_evidence
from evidence.tests import samples
from ledger.models import LedgerEvent
from ledger.verify import verify

from .conftest import case_in_progress, page


def contact_body(**overrides):  # type: ignore[no-untyped-def]
    body = {
        "direction": "outbound",
        "party": "consumer",
        "channel": "phone",
        "occurred_at": (timezone.now() - timedelta(minutes=10)).isoformat(),
        "duration_seconds": 320,
        "summary": "致电投诉人，说明已安排上门检测，投诉人同意周三上午在家等候。",
    }
    body.update(overrides)
    return body


def test_agent_logs_a_call_and_the_ledger_keeps_the_summary_encrypted(cast, case, api_as):
    response = api_as(cast.agent).post(f"/complaints/{case.tracking_no}/contacts", contact_body())
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["direction"], data["party"], data["channel"], data["duration_seconds"]) == (
        "outbound",
        "consumer",
        "phone",
        320,
    )
    assert data["recorded_by"] == "agent" and response["ETag"] == f'"{case.version + 1}"'
    event = LedgerEvent.objects.filter(complaint=case).order_by("-seq").first()
    assert event.action == "add_contact"
    assert event.data["contact_id"] == data["id"] and event.data["channel"] == "phone"
    assert "上门检测" not in str(event.data) and "enc" in event.data["note"]  # personal text encrypted
    assert verify().ok
    listed = api_as(cast.supervisor).get(f"/complaints/{case.tracking_no}/contacts").json()
    assert [c["summary"] for c in listed] == [contact_body()["summary"]]
    masked = api_as(cast.analyst).get(f"/complaints/{case.tracking_no}/contacts").json()
    assert masked[0]["summary"] == "***"
    html = page(cast.agent, case)
    assert "沟通记录" in html and "上门检测" in html.split('id="timeline"')[1]  # a labelled timeline event


def test_a_third_party_needs_a_kind_and_a_name(cast, case, api_as):
    response = api_as(cast.agent).post(
        f"/complaints/{case.tracking_no}/contacts",
        contact_body(party="third_party", summary="与快递网点核实派送记录。"),
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"third_party_kind", "third_party_name"}
    ok = api_as(cast.agent).post(
        f"/complaints/{case.tracking_no}/contacts",
        contact_body(
            party="third_party",
            third_party_kind="carrier",
            third_party_name="顺丰速运南山网点",
            summary="与快递网点核实派送记录：包裹已于昨日签收，签收人非投诉人。",
        ),
    )
    assert ok.status_code == 201 and ok.json()["third_party_name"] == "顺丰速运南山网点"
    event = LedgerEvent.objects.filter(complaint=case, action="add_contact").get()
    assert event.data["third_party_kind"] == "carrier" and "顺丰" not in str(event.data)  # the name is private


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"occurred_at": (timezone.now() + timedelta(hours=2)).isoformat()}, "occurred_at"),
        ({"summary": " "}, "summary"),
        ({"channel": "telegram"}, "channel"),
        ({"direction": "sideways"}, "direction"),
        ({"duration_seconds": -5}, "duration_seconds"),
        ({"evidence_id": 999999}, "evidence_id"),
    ],
)
def test_every_input_error_names_its_field_and_changes_nothing(cast, case, api_as, overrides, field):
    response = api_as(cast.agent).post(f"/complaints/{case.tracking_no}/contacts", contact_body(**overrides))
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not Contact.objects.exists()
    assert LedgerEvent.objects.filter(complaint=case).count() == case.version


def test_the_action_checks_before_anything_is_written(cast, case):
    with pytest.raises(ValidationError) as refused:
        actions.add_contact(
            case,
            actor=Actor.staff(cast.agent),
            direction="inbound",
            party="consumer",
            channel="phone",
            occurred_at=None,
            summary="x",
            file=samples.png(3),
            filename="录音.png",
        )
    assert set(refused.value.errors) == {"occurred_at", "summary"}
    assert not case.evidence.exists() and not Contact.objects.exists()


def test_a_recording_uploaded_with_a_contact_becomes_linked_communication_evidence(cast, case):
    contact = actions.add_contact(
        case,
        actor=Actor.staff(cast.agent),
        direction="inbound",
        party="consumer",
        channel="wechat",
        occurred_at=timezone.now(),
        summary="投诉人发来微信截图，显示客服曾承诺七天内退款。",
        file=samples.png(4),
        filename="微信截图.png",
        expected_version=case.version,
    )
    assert contact.evidence.kind == "communication" and contact.evidence.filename == "微信截图.png"
    actions_in_order = list(LedgerEvent.objects.filter(complaint=case).order_by("seq").values_list("action", flat=True))
    assert actions_in_order[-2:] == ["add_evidence", "add_contact"]
    assert verify().ok


def test_an_evidence_item_of_another_case_cannot_be_linked(cast, case, body, org, api_as):
    other = case_in_progress(cast, body, org_unit=org.store_sz.pk, description="另一件投诉：洗衣机噪音大。")
    item = add_evidence(
        other, content=samples.png(5), filename="a.png", kind="communication", actor=Actor.staff(cast.agent), via="api"
    )
    response = api_as(cast.agent).post(f"/complaints/{case.tracking_no}/contacts", contact_body(evidence_id=item.pk))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "evidence_id"


def test_who_may_log_contacts(cast, case, api_as, org):
    path = f"/complaints/{case.tracking_no}/contacts"
    assert api_as().post(path, contact_body()).status_code == 401
    assert api_as(cast.auditor).post(path, contact_body()).status_code == 403  # reads, never writes
    assert api_as(cast.outsider).post(path, contact_body()).status_code == 404  # another department
    assert api_as(cast.outsider).get(path).status_code == 404
    assert api_as(cast.legal).post(path, contact_body()).status_code == 404  # not shared, not L3
    assert api_as(cast.agent2).post(path, contact_body()).status_code == 201  # an agent of the department
    assert api_as(cast.supervisor).post(path, contact_body()).status_code == 201
    # legal/PR log contacts (a regulator, the press) on the cases they see; the reply is not theirs
    case_actions.share(case, actor=Actor.staff(cast.supervisor), user=cast.legal)
    media = contact_body(party="third_party", third_party_kind="media", third_party_name="南方都市报记者")
    assert api_as(cast.legal).post(path, media).status_code == 201
    reply = api_as(cast.legal).post(f"/complaints/{case.tracking_no}/replies", {"text": "您好，这是答复。"})
    assert reply.status_code == 403


def test_a_department_handler_may_not_log_contacts(cast, case, org, api_as):
    case_actions.assign(case, actor=Actor.staff(cast.supervisor), department=org.quality)
    response = api_as(cast.handler).post(f"/complaints/{case.tracking_no}/contacts", contact_body())
    assert response.status_code == 403
