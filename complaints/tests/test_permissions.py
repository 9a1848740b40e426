"""The permission chokepoint: who sees which case, who may do what (anonymous, without the right,
with it, and from another department)."""

import pytest

from accounts.choices import Role
from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from conftest import make_user


def new_case(body, **overrides) -> Complaint:
    complaint, _code = actions.submit(
        check_intake(IntakeData(**body(**overrides)), staff=False), actor=Actor.consumer()
    )
    return complaint


def accepted_case(cast, body, **overrides) -> Complaint:
    return actions.accept(new_case(body, **overrides), actor=Actor.staff(cast.supervisor))


def visible(user) -> set[str]:
    return set(Complaint.objects.visible_to(user).values_list("tracking_no", flat=True))


def test_visibility_rules(org, cast, body):
    mine = accepted_case(cast, body)
    quality_case = actions.assign(mine, actor=Actor.staff(cast.supervisor), department=org.quality)
    service_case = new_case(body)  # new cases wait in the default department (客服中心)
    store_case = new_case(body, org_unit=org.store_sz.pk)
    north_case = new_case(body, org_unit=org.store_bj.pk)
    crisis = new_case(body)
    for _ in range(3):
        crisis = actions.escalate(crisis, actor=Actor.staff(cast.supervisor), reason="媒体关注")
    everything = {c.tracking_no for c in (quality_case, service_case, store_case, north_case, crisis)}

    assert visible(cast.agent) >= {service_case.tracking_no, store_case.tracking_no}
    assert quality_case.tracking_no not in visible(cast.agent)
    assert quality_case.tracking_no in visible(cast.quality_agent)
    assert quality_case.tracking_no in visible(cast.handler)
    assert service_case.tracking_no not in visible(cast.handler)
    assert visible(cast.manager) == {store_case.tracking_no}  # the south region's store only
    assert visible(cast.legal) == {crisis.tracking_no}
    assert visible(cast.auditor) == everything
    assert visible(cast.analyst) == everything
    assert visible(cast.admin) == set()
    assert visible(cast.outsider) == set()


def test_agent_sees_cases_assigned_to_them_in_another_department(org, cast, body):
    case = accepted_case(cast, body)
    moved = actions.assign(case, actor=Actor.staff(cast.supervisor), department=org.quality, owner=cast.quality_agent)
    assert moved.tracking_no not in visible(cast.agent)
    assert moved.tracking_no in visible(cast.quality_agent)


def test_legal_sees_flagged_cases(cast, body):
    flagged = new_case(body)
    actions.classify(flagged, actor=Actor.staff(cast.agent), risk_flags=["legal"])
    assert flagged.tracking_no in visible(cast.legal)


ENDPOINTS = [
    ("get", "/complaints/{tn}", None),
    ("get", "/complaints/{tn}/timeline", None),
    ("post", "/complaints/{tn}/escalate", {"reason": "升级处理", "version": 1}),
]


@pytest.mark.parametrize(("method", "path", "payload"), ENDPOINTS)
def test_endpoints_as_anonymous_outsider_readonly_and_agent(cast, api_as, body, method, path, payload):
    case = new_case(body)
    url = path.format(tn=case.tracking_no)

    def call(user):
        client = api_as(user)
        return client.get(url) if method == "get" else client.post(url, payload)

    assert call(None).status_code == 401
    assert call(cast.outsider).status_code == 404  # another department: the case does not exist for them
    assert call(cast.admin).status_code == 403  # configuration only, no case role
    auditor = call(cast.auditor)
    assert auditor.status_code == (200 if method == "get" else 403)
    assert call(cast.agent).status_code == 200


def test_analyst_sees_personal_data_masked(cast, api_as, body):
    case = new_case(body)
    data = api_as(cast.analyst).get(f"/complaints/{case.tracking_no}").json()
    assert data["complainant_name"] == "张*"
    assert data["complainant_phone"] == "+86138****8000"
    assert data["complainant_email"].startswith("z***@")
    listing = api_as(cast.analyst).get("/complaints").json()["items"][0]
    assert listing["complainant_phone"] == "+86138****8000"
    assert api_as(cast.auditor).get(f"/complaints/{case.tracking_no}").json()["complainant_name"] == "张三"


def test_lists_show_contact_details_masked_to_everyone_and_record_no_view(cast, api_as, body):
    from ledger.models import LedgerEvent

    case = new_case(body)
    listing = api_as(cast.agent).get("/complaints").json()["items"][0]
    assert (listing["complainant_name"], listing["complainant_phone"]) == ("张*", "+86138****8000")
    assert not LedgerEvent.objects.filter(complaint=case, action="view_personal").exists()
    assert api_as(cast.agent).get(f"/complaints/{case.tracking_no}").json()["complainant_name"] == "张三"
    assert (
        LedgerEvent.objects.filter(complaint=case, action="view_personal", actor=f"staff:{cast.agent.pk}").count() == 1
    )


def test_admin_with_a_case_role_sees_cases(org, cast, body):
    case = new_case(body)
    admin_agent = make_user("admin_agent", (Role.ADMIN, None), (Role.AGENT, org.service))
    assert case.tracking_no in visible(admin_agent)


# role x action x state: which persona may take which action on a new and on an in-progress case
MATRIX = {
    "accept": {"agent": True, "supervisor": True, "quality_agent": False, "legal": False, "manager": False},
    "reject": {"agent": True, "supervisor": True, "quality_agent": False, "legal": False},
    "escalate": {"agent": True, "supervisor": True, "legal": False, "handler": False},  # legal: not visible
    "de_escalate": {"agent": False, "supervisor": True, "legal": False},
}


@pytest.mark.parametrize("action", sorted(MATRIX))
def test_role_action_matrix_on_a_new_case(cast, body, action):
    from complaints.transitions import may

    case = new_case(body, org_unit=None)
    for persona, expected in MATRIX[action].items():
        user = getattr(cast, persona if persona != "quality_agent" else "quality_agent")
        assert may(Actor.staff(user), case, action) is expected, (persona, action)


def test_only_owner_or_supervisor_work_an_accepted_case(org, cast, body):
    from complaints.transitions import allowed_actions

    case = actions.accept(new_case(body), actor=Actor.staff(cast.supervisor))
    owner = cast.agent if case.owner_id == cast.agent.pk else cast.agent2
    other = cast.agent2 if owner is cast.agent else cast.agent
    assert "start_work" in allowed_actions(case, Actor.staff(owner))
    assert "start_work" in allowed_actions(case, Actor.staff(cast.supervisor))
    assert "start_work" not in allowed_actions(case, Actor.staff(other))
    assert "assign" not in allowed_actions(case, Actor.staff(owner))
    assert allowed_actions(case, Actor.staff(cast.auditor)) == []
    assert set(allowed_actions(case, Actor.consumer())) == {"withdraw"}


def test_consumer_needs_the_right_access_code(cast, api_as, body):
    response = api_as().post("/complaints", body())
    tn = response.json()["tracking_no"]
    assert api_as().get(f"/public/complaints/{tn}").status_code == 404
    assert api_as().get(f"/public/complaints/{tn}", headers={"X-Access-Code": "WRONGCODE234"}).status_code == 404
    assert api_as().get("/public/complaints/TS20000101-000001", headers={"X-Access-Code": "X"}).status_code == 404
    view = api_as().get(f"/public/complaints/{tn}", headers={"X-Access-Code": response.json()["access_code"]})
    assert view.status_code == 200


def test_consumer_view_hides_internal_notes_and_staff_names(cast, api_as, body):
    response = api_as().post("/complaints", body()).json()
    case = Complaint.objects.get(tracking_no=response["tracking_no"])
    case = actions.accept(case, actor=Actor.staff(cast.supervisor))
    actions.add_note(case, actor=Actor.staff(cast.supervisor), text="内部：此人曾多次投诉", internal=True)
    view = api_as().get(f"/public/complaints/{case.tracking_no}", headers={"X-Access-Code": response["access_code"]})
    text = view.content.decode()
    assert "此人曾多次投诉" not in text
    assert "supervisor" not in text and "agent" not in text.replace("allowed_actions", "")
    assert view.json()["handler"] in {"王女士", "李先生"}
    actions.add_note(case, actor=Actor.staff(cast.supervisor), text="您的退款已提交财务审批。", internal=False)
    view = api_as().get(f"/public/complaints/{case.tracking_no}", headers={"X-Access-Code": response["access_code"]})
    messages = [entry["message"] for entry in view.json()["timeline"] if entry["event"] == "add_note"]
    assert messages == ["您的退款已提交财务审批。"]


def test_legal_sees_cases_shared_with_them(cast, api_as, body):
    case = new_case(body)
    assert case.tracking_no not in visible(cast.legal)
    supervisor = api_as(cast.supervisor)
    etag = supervisor.get(f"/complaints/{case.tracking_no}")["ETag"]
    refused = supervisor.post(f"/complaints/{case.tracking_no}/share", {"user": "agent2"}, headers={"If-Match": etag})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "user"
    shared = supervisor.post(f"/complaints/{case.tracking_no}/share", {"user": "legal"}, headers={"If-Match": etag})
    assert shared.status_code == 200, shared.content
    assert case.tracking_no in visible(cast.legal)
    assert api_as(cast.legal).get(f"/complaints/{case.tracking_no}").status_code == 200
    assert (
        api_as(cast.agent).post(f"/complaints/{case.tracking_no}/share", {"user": "legal", "version": 2}).status_code
        == 403
    )


def test_a_read_only_role_does_not_widen_what_a_writer_may_change(org, cast, api_as, body):
    case = new_case(body)  # in 客服中心
    legal_auditor = make_user("legal_auditor", (Role.LEGAL_PR, None), (Role.AUDITOR, None))
    handler_auditor = make_user("handler_auditor", (Role.DEPARTMENT_HANDLER, org.quality), (Role.AUDITOR, None))
    for user in (legal_auditor, handler_auditor):
        client = api_as(user)
        assert client.get(f"/complaints/{case.tracking_no}").status_code == 200  # the auditor reads
        for action, payload in (("escalate", {"reason": "越权升级"}), ("notes", {"text": "越权备注"})):
            response = client.post(f"/complaints/{case.tracking_no}/{action}", {**payload, "version": 1})
            assert response.status_code == 403, (user, action)


def test_an_analyst_with_another_role_sees_masked_data_outside_that_role(org, cast, api_as, body):
    case = new_case(body, description="电话13912345678，邮箱 li.si@example.com，家住某小区。")
    analyst_handler = make_user("analyst_handler", (Role.ANALYST, None), (Role.DEPARTMENT_HANDLER, org.quality))
    data = api_as(analyst_handler).get(f"/complaints/{case.tracking_no}").json()
    assert data["complainant_name"] == "张*"
    assert "13912345678" not in data["description"] and "li.si@example.com" not in data["description"]
    assert "家住某小区" in data["description"]
    assert data["customer_id"] is None and data["order_no"] in ("", "***")
    moved = actions.accept(case, actor=Actor.staff(cast.supervisor))
    actions.assign(moved, actor=Actor.staff(cast.supervisor), department=org.quality)
    data = api_as(analyst_handler).get(f"/complaints/{case.tracking_no}").json()
    assert data["complainant_name"] == "张三"  # now inside their department's scope


def test_a_case_shared_with_two_people_is_listed_once(org, cast, api_as, body):
    case = new_case(body)
    legal2 = make_user("legal2", (Role.LEGAL_PR, None))
    case = actions.share(case, actor=Actor.staff(cast.supervisor), user=cast.legal)
    actions.share(case, actor=Actor.staff(cast.supervisor), user=legal2)
    for _ in range(3):
        case = actions.escalate(Complaint.objects.get(pk=case.pk), actor=Actor.staff(cast.supervisor), reason="危机")
    items = api_as(cast.legal).get("/complaints").json()["items"]
    assert [c["tracking_no"] for c in items] == [case.tracking_no]


def test_scope_rule_in_memory_matches_the_query(org, cast, body):
    from complaints.permissions import Principal

    cases = [new_case(body), new_case(body, org_unit=org.store_sz.pk), new_case(body, org_unit=org.store_bj.pk)]
    cases.append(
        actions.assign(
            actions.accept(new_case(body), actor=Actor.staff(cast.supervisor)),
            actor=Actor.staff(cast.supervisor),
            department=org.quality,
        )
    )
    for persona in ("agent", "supervisor", "quality_agent", "handler", "legal", "manager", "analyst", "outsider"):
        principal = Principal.of(getattr(cast, persona))
        by_query = set(Complaint.objects.filter(principal.scope_q()).values_list("pk", flat=True))
        in_memory = {c.pk for c in Complaint.objects.select_related("org_unit") if principal.in_scope(c)}
        assert by_query == in_memory, persona


def test_names_are_resolved_only_after_the_access_check(cast, api_as, body):
    case = new_case(body)
    for username in ("nobody-here", "agent2"):
        response = api_as(cast.analyst).post(
            f"/complaints/{case.tracking_no}/assign", {"owner": username, "version": 1}
        )
        assert response.status_code == 403  # the same answer whether the user exists or not
