"""An open blocking task keeps the case from being resolved (resolve, accept_proposal): the API refuses
with the reason naming the task, the case page does not offer the action and says why."""

import pytest

from complaints import actions as lifecycle
from complaints.ledgering import Actor
from complaints.models import Complaint
from investigation import actions

from .conftest import fresh, logged_in


def _ask(cast, case, org, blocking: bool = True):  # type: ignore[no-untyped-def]
    return actions.create_task(
        case,
        actor=Actor.staff(cast.agent),
        kind="quality_lab_test",
        department=org.quality,
        request="请检测退回的电热水壶是否漏电。",
        blocking=blocking,
    )


def _resolve(api, case):  # type: ignore[no-untyped-def]
    etag = api.get(f"/complaints/{case.tracking_no}")["ETag"]
    return api.post(
        f"/complaints/{case.tracking_no}/resolve",
        {"outcome": "executed", "note": "已为投诉人更换新品。"},
        headers={"If-Match": etag},
    )


def test_resolve_waits_for_the_blocking_task(cast, case, org, api_as):
    task = _ask(cast, case, org)
    agent = api_as(cast.agent)
    refused = _resolve(agent, case)
    assert refused.status_code == 409, refused.content
    message = refused.json()["message"]
    assert "协办任务" in message and "质量检测" in message and "质量部" in message
    assert fresh(case).status == "in_progress"
    assert "resolve" not in agent.get(f"/complaints/{case.tracking_no}").json()["allowed_actions"]

    page = logged_in(cast.agent).get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert 'id="form-resolve"' not in page and 'id="tasks-blocking"' in page and "质量检测" in page
    posted = logged_in(cast.agent).post(
        f"/staff/cases/{case.tracking_no}/resolve/",
        {"outcome": "executed", "note": "已为投诉人更换新品。", "version": fresh(case).version},
    )
    assert posted.status_code == 422 and "质量检测" in posted.content.decode()

    actions.complete_task(task, actor=Actor.staff(cast.handler), result="检测合格。")
    assert _resolve(agent, case).status_code == 200
    assert fresh(case).status == "resolved"


def test_accepting_the_proposal_waits_for_the_blocking_task(cast, filed, org, api_as):
    case, code = filed
    lifecycle.propose_resolution(case, actor=Actor.staff(cast.agent), text="为您更换新品并赔偿100元。")
    task = _ask(cast, case, org)  # asked for after the offer was made
    consumer = api_as()
    refused = consumer.post(
        f"/public/complaints/{case.tracking_no}/accept-proposal", {}, headers={"X-Access-Code": code}
    )
    # The consumer learns that checks are still running, not which department checks what.
    assert refused.status_code == 409 and "核实" in refused.json()["message"]
    assert "质量" not in refused.json()["message"]
    staff = api_as(cast.agent).post(
        f"/complaints/{case.tracking_no}/consumer-accepted",
        {"note": "投诉人电话表示接受。"},
        headers={"If-Match": api_as(cast.agent).get(f"/complaints/{case.tracking_no}")["ETag"]},
    )
    assert staff.status_code == 409
    assert fresh(case).status == "resolution_proposed"
    actions.cancel_task(task, actor=Actor.staff(cast.agent), reason="投诉人同意不做检测。")
    accepted = consumer.post(
        f"/public/complaints/{case.tracking_no}/accept-proposal", {}, headers={"X-Access-Code": code}
    )
    assert accepted.status_code == 200, accepted.content
    assert Complaint.objects.get(pk=case.pk).status == "resolved"


def test_a_non_blocking_task_does_not_hold_the_case(cast, case, org, api_as):
    _ask(cast, case, org, blocking=False)
    assert _resolve(api_as(cast.agent), case).status_code == 200


def test_no_offer_is_made_while_a_blocking_task_is_open(cast, filed, org):
    from core.errors import TransitionNotAllowed

    case, _code = filed
    _ask(cast, case, org)
    with pytest.raises(TransitionNotAllowed) as refused:
        lifecycle.propose_resolution(fresh(case), actor=Actor.staff(cast.agent), text="为您更换新品。")
    assert "质量检测" in refused.value.reason
    assert fresh(case).status == "in_progress"
