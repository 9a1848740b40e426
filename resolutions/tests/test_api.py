"""The remedies API and the calculator endpoint: as anonymous, without the right, with it, and from
another department; refusals in the code base's error shape."""

from ledger.models import LedgerEvent
from ledger.verify import verify


def test_anonymous_and_other_departments_get_nothing(api_as, cast, case):
    assert api_as().get(f"/complaints/{case.tracking_no}/remedies").status_code == 401
    assert api_as(cast.outsider).get(f"/complaints/{case.tracking_no}/remedies").status_code == 404
    assert api_as(cast.admin).get(f"/complaints/{case.tracking_no}/remedies").status_code == 403
    refused = api_as(cast.auditor).post(f"/complaints/{case.tracking_no}/remedies", {"kind": "apology"})
    assert refused.status_code == 403


def test_propose_approve_and_pay_through_the_api(api_as, cast, case):
    agent, supervisor = api_as(cast.agent), api_as(cast.supervisor)
    created = agent.post(
        f"/complaints/{case.tracking_no}/remedies",
        {"kind": "compensation", "amount": 500, "description": "赔偿", "statutory_basis": "消保法第五十五条"},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "pending_approval" and body["amount"] == "500.00" and body["open_steps"] == ["supervisor"]
    rid = body["id"]
    own = agent.post(f"/complaints/{case.tracking_no}/remedies/{rid}/approve", {"comment": "我自己批"})
    assert own.status_code == 403 and "自己提出" in own.json()["message"]
    early = agent.post(f"/complaints/{case.tracking_no}/remedies/{rid}/paid", {"reference": "TX-1"})
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "remedy"
    approved = supervisor.post(f"/complaints/{case.tracking_no}/remedies/{rid}/approve", {"comment": "同意"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["approvals"][0]["decided_by"] == "supervisor"
    again = api_as(cast.manager).post(f"/complaints/{case.tracking_no}/remedies/{rid}/reject", {"comment": "不同意"})
    assert again.status_code == 422 and "已批准" in again.json()["errors"][0]["message"]
    paid = agent.post(f"/complaints/{case.tracking_no}/remedies/{rid}/paid", {"reference": "TX-1"})
    assert paid.status_code == 200 and paid.json()["paid_reference"] == "TX-1"
    listing = supervisor.get(f"/complaints/{case.tracking_no}/remedies").json()
    assert listing["totals"]["paid"] == [{"kind": "compensation", "currency": "CNY", "total": "500.00", "count": 1}]
    events = LedgerEvent.objects.filter(complaint=case).order_by("seq").values_list("action", flat=True)
    actions = list(events)
    assert actions[-1] == "view_personal"  # the listing is a read of personal data
    assert [a for a in actions if a != "view_personal"][-3:] == ["add_remedy", "approve_remedy", "mark_remedy_paid"]
    assert verify().ok


def test_bad_amounts_are_422_with_the_field(api_as, cast, case):
    agent = api_as(cast.agent)
    for amount in ["-5", "十元", "1.234", 10_000_001, None]:
        response = agent.post(f"/complaints/{case.tracking_no}/remedies", {"kind": "compensation", "amount": amount})
        assert response.status_code == 422, amount
        assert response.json()["errors"][0]["field"] == "amount"
    unknown = agent.post(f"/complaints/{case.tracking_no}/remedies", {"kind": "bribe", "amount": 1})
    assert unknown.status_code == 422
    assert LedgerEvent.objects.filter(complaint=case, action="add_remedy").count() == 0


def test_stale_version_is_refused(api_as, cast, case):
    response = api_as(cast.agent).post(
        f"/complaints/{case.tracking_no}/remedies", {"kind": "apology", "description": "致歉", "version": 1}
    )
    assert response.status_code == 409


def test_analyst_sees_remedies_with_text_masked(api_as, cast, case):
    api_as(cast.agent).post(f"/complaints/{case.tracking_no}/remedies", {"kind": "apology", "description": "致歉信"})
    items = api_as(cast.analyst).get(f"/complaints/{case.tracking_no}/remedies").json()["items"]
    assert items[0]["description"] == "***"


def test_calculator_endpoint(api_as, cast):
    agent = api_as(cast.agent)
    fraud = agent.get("/statutory/calculate", rule="crpl_55", price="99").json()
    assert fraud["amount"] == "500.00" and fraud["rule"]["article"] == "第五十五条第一款"
    food = agent.get("/statutory/calculate", rule="food_148", price="300").json()
    assert food["amount"] == "3000.00" and "食品安全法" in food["rule"]["law"]
    ret = agent.get(
        "/statutory/calculate", rule="crpl_25", received_on="2025-03-01", asked_on="2025-03-05", exception="perishable"
    ).json()
    assert ret["applies"] is False
    bad = agent.get("/statutory/calculate", rule="crpl_55", price="-3")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "price"
    assert api_as().get("/statutory/calculate", rule="crpl_55", price="99").status_code == 401
    assert len(agent.get("/statutory/rules").json()) == 5
