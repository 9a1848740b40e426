"""The whole lifecycle through the REST API, as the personas would drive it."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from complaints.models import Complaint
from ledger.models import LedgerEvent


def file(api_as, body, **overrides):
    response = api_as().post("/complaints", body(**overrides))
    assert response.status_code == 201, response.content
    return response.json()


def act(client, tracking_no, action, payload=None, expect=200):
    detail = client.get(f"/complaints/{tracking_no}")
    assert detail.status_code == 200, detail.content
    response = client.post(f"/complaints/{tracking_no}/{action}", payload or {}, headers={"If-Match": detail["ETag"]})
    assert response.status_code == expect, response.content
    return response.json()


def consumer(api_as, receipt, action, payload=None, expect=200):
    response = api_as().post(
        f"/public/complaints/{receipt['tracking_no']}/{action}",
        payload or {},
        headers={"X-Access-Code": receipt["access_code"]},
    )
    assert response.status_code == expect, response.content
    return response.json()


def test_complaint_goes_from_receipt_to_archive(cast, api_as, body):
    receipt = file(api_as, body)
    tn = receipt["tracking_no"]
    agent, supervisor = api_as(cast.agent), api_as(cast.supervisor)
    accepted = act(agent, tn, "accept", {"priority": "P2", "note": "我们已受理，预计3个工作日内答复。"})
    assert accepted["status"] == "accepted" and accepted["priority"] == "P2"
    assert accepted["owner"] in {"agent", "agent2"}
    owner = api_as(cast.agent if accepted["owner"] == "agent" else cast.agent2)
    assert act(owner, tn, "start")["status"] == "in_progress"
    assert act(owner, tn, "wait-for-consumer", {"request": "请提供购买发票的照片。"})["status"] == "awaiting_consumer"
    view = consumer(api_as, receipt, "information", {"text": "发票已拍照，订单号 A123。"})
    assert view["status"] == "in_progress"
    assert act(owner, tn, "propose", {"text": "全额退款并赔偿100元。", "amount": "100.00"})["status"] == (
        "resolution_proposed"
    )
    view = consumer(api_as, receipt, "refuse-proposal", {"reason": "赔偿太少"})
    assert view["status"] == "in_progress"
    act(owner, tn, "propose", {"text": "全额退款并赔偿300元。", "amount": "300.00"})
    view = consumer(api_as, receipt, "accept-proposal")
    assert view["status"] == "resolved" and view["outcome"] == "accepted"
    closed = act(owner, tn, "close", {"reply_text": "您好，退款与赔偿已处理完毕。", "evidence_complete": True})
    assert closed["status"] == "closed"
    view = consumer(api_as, receipt, "reopen", {"reason": "退款没有到账"})
    assert view["status"] == "reopened"
    act(owner, tn, "start")
    act(owner, tn, "resolve", {"outcome": "executed", "note": "已再次退款，银行流水已确认。"})
    # the reply before reopening does not count again
    error = act(owner, tn, "close", {"evidence_complete": True}, expect=422)
    assert [e["field"] for e in error["errors"]] == ["reply_sent"]
    act(owner, tn, "close", {"reply_text": "您好，已再次退款，请查收。", "evidence_complete": True})
    archived = act(supervisor, tn, "archive")
    assert archived["status"] == "archived"
    assert act(supervisor, tn, "notes", {"text": "x"}, expect=409)["allowed_actions"] == []
    complaint = Complaint.objects.get(tracking_no=tn)
    events = list(LedgerEvent.objects.filter(complaint=complaint).order_by("seq").values_list("action", flat=True))
    # issue 6 (privacy): reading the case (GET detail) is a view_personal event, which moves no version
    events = [action for action in events if action != "view_personal"]
    assert events[0] == "receive" and events[-1] == "archive"
    assert complaint.version == len(events)
    timeline = api_as().get(f"/public/complaints/{tn}", headers={"X-Access-Code": receipt["access_code"]}).json()
    labels = [entry["event"] for entry in timeline["timeline"]]
    assert "add_information" in labels and "archive" in labels


def test_rejection_is_appealed_once_and_then_decided_by_a_supervisor(cast, api_as, body):
    receipt = file(api_as, body)
    tn = receipt["tracking_no"]
    rejected = act(api_as(cast.agent), tn, "reject", {"reason": "不属于本公司经营范围。"})
    assert rejected["status"] == "rejected"
    view = consumer(api_as, receipt, "appeal", {"reason": "商品确实是在贵公司门店购买的"})
    assert view["status"] == "new"
    # After the appeal only a supervisor decides.
    error = act(api_as(cast.agent), tn, "accept", {}, expect=403)
    assert "accept" not in error["message"].split("：")[-1]
    act(api_as(cast.supervisor), tn, "reject", {"reason": "经核实，不予受理。"})
    error = consumer(api_as, receipt, "appeal", {"reason": "再次申诉，请重新审核"}, expect=409)
    assert error["error"] == "transition_not_allowed"


def test_final_decision_names_the_external_routes(cast, api_as, body):
    receipt = file(api_as, body)
    tn = receipt["tracking_no"]
    act(api_as(cast.agent), tn, "accept", {})
    supervisor = api_as(cast.supervisor)
    act(supervisor, tn, "start")
    error = act(
        supervisor,
        tn,
        "resolve",
        {"outcome": "final_decision", "note": "经调查不予赔偿。", "open_routes": ["mediation"]},
        expect=422,
    )
    assert error["errors"][0]["field"] == "outcome"  # only after the consumer refused a proposal
    act(supervisor, tn, "propose", {"text": "赠送50元优惠券。"})
    consumer(api_as, receipt, "refuse-proposal", {"reason": "不接受优惠券"})
    error = act(supervisor, tn, "resolve", {"outcome": "final_decision", "note": "经调查不予赔偿。"}, expect=422)
    assert error["errors"][0]["field"] == "open_routes"
    resolved = act(
        supervisor,
        tn,
        "resolve",
        {"outcome": "final_decision", "note": "经调查不予赔偿。", "open_routes": ["mediation", "regulator"]},
    )
    assert resolved["open_routes"] == ["mediation", "regulator"]
    view = api_as().get(f"/public/complaints/{tn}", headers={"X-Access-Code": receipt["access_code"]}).json()
    assert view["open_routes"] == ["mediation", "regulator"] and view["outcome"] == "final_decision"


def test_external_route_pauses_and_returns(cast, api_as, body):
    receipt = file(api_as, body)
    tn = receipt["tracking_no"]
    act(api_as(cast.agent), tn, "accept", {})
    supervisor = api_as(cast.supervisor)
    routed = act(supervisor, tn, "external", {"route": "mediation", "reference": "消协调解 2026-118"})
    assert routed["status"] == "external" and routed["sla"]["state"] == "paused"
    back = act(supervisor, tn, "external-outcome", {"resolved": True, "note": "调解达成协议，退款500元。"})
    assert back["status"] == "resolved" and back["outcome"] == "external_decision"


def test_withdrawal_by_the_consumer(cast, api_as, body):
    receipt = file(api_as, body)
    view = consumer(api_as, receipt, "withdraw", {"reason": "问题已自行解决"})
    assert view["status"] == "withdrawn" and view["allowed_actions"] == []


def test_close_needs_reply_and_outcome(cast, api_as, body):
    receipt = file(api_as, body)
    tn = receipt["tracking_no"]
    act(api_as(cast.agent), tn, "accept", {})
    supervisor = api_as(cast.supervisor)
    act(supervisor, tn, "start")
    act(supervisor, tn, "resolve", {"outcome": "executed", "note": "已更换新品。"})
    error = act(supervisor, tn, "close", {}, expect=422)
    assert error["errors"][0]["field"] == "reply_sent"  # the closing checklist (casework) names the item


def test_reopen_only_within_the_window(cast, api_as, body):
    receipt = file(api_as, body)
    tn = receipt["tracking_no"]
    act(api_as(cast.agent), tn, "accept", {})
    supervisor = api_as(cast.supervisor)
    act(supervisor, tn, "start")
    act(supervisor, tn, "resolve", {"outcome": "executed", "note": "已更换新品。"})
    act(supervisor, tn, "close", {"reply_text": "已为您更换新品。", "evidence_complete": True})
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        error = consumer(api_as, receipt, "reopen", {"reason": "又坏了"}, expect=409)
    assert "30" in error["message"]


def test_illegal_transition_lists_what_this_user_may_do(cast, api_as, body):
    receipt = file(api_as, body)
    error = act(api_as(cast.agent), receipt["tracking_no"], "close", {}, expect=409)
    assert error["error"] == "transition_not_allowed" and error["state"] == "new"
    assert set(error["allowed_actions"]) == {"accept", "reject", "classify", "escalate", "add_note"}


def test_escalation_up_and_down(cast, api_as, body):
    receipt = file(api_as, body)
    tn = receipt["tracking_no"]
    assert act(api_as(cast.agent), tn, "escalate", {"reason": "投诉人情绪激动"})["escalation_level"] == 1
    act(api_as(cast.agent), tn, "de-escalate", {"reason": "想要降级"}, expect=403)
    assert act(api_as(cast.supervisor), tn, "de-escalate", {"reason": "已安抚"})["escalation_level"] == 0


@pytest.mark.parametrize("header", ["If-Match", "version"])
def test_stale_write_changes_nothing(cast, api_as, body, header):
    receipt = file(api_as, body)
    tn = receipt["tracking_no"]
    agent = api_as(cast.agent)
    act(agent, tn, "escalate", {"reason": "第一次"})
    if header == "If-Match":
        response = agent.post(f"/complaints/{tn}/escalate", {"reason": "过期写入"}, headers={"If-Match": '"1"'})
        assert response.status_code == 412
    else:
        response = agent.post(f"/complaints/{tn}/escalate", {"reason": "过期写入", "version": 1})
        assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert Complaint.objects.get(tracking_no=tn).escalation_level == 1


def test_write_without_version_is_refused(cast, api_as, body):
    receipt = file(api_as, body)
    response = api_as(cast.agent).post(f"/complaints/{receipt['tracking_no']}/escalate", {"reason": "无版本"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "version"


def test_staff_registers_a_phone_complaint_with_p1(cast, api_as, body):
    response = api_as(cast.agent).post("/complaints", body(channel="phone", priority="P1", risk_flags=["safety"]))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["channel"] == "phone" and data["access_code"]
    complaint = Complaint.objects.get(tracking_no=data["tracking_no"])
    assert complaint.ack_due_at - complaint.received_at == timedelta(hours=2)


def test_staff_recording_the_consumers_acceptance_say_how_it_was_given(cast, api_as, body):
    receipt = file(api_as, body)
    tn = receipt["tracking_no"]
    act(api_as(cast.agent), tn, "accept", {})
    supervisor = api_as(cast.supervisor)
    act(supervisor, tn, "start")
    act(supervisor, tn, "propose", {"text": "全额退款。"})
    error = act(supervisor, tn, "consumer-accepted", {}, expect=422)
    assert error["errors"][0]["field"] == "note"
    done = act(supervisor, tn, "consumer-accepted", {"note": "11月22日电话确认接受"})
    assert done["status"] == "resolved" and done["outcome"] == "accepted"
