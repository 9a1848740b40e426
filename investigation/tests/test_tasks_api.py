"""Coordination tasks over the REST API: asked for by the case's agent, answered by a department that
cannot otherwise see the case."""

from datetime import datetime

import time_machine
from django.test import Client

from accounts.models import Notification
from complaints.models import Complaint
from complaints.tests.clock import _fresh_calendar, at, eod  # noqa: F401 (the fixture is used by name)
from evidence.demo_files import pdf
from evidence.models import Evidence
from investigation.models import CoordinationTask
from ledger.models import LedgerEvent


def etag(api, tracking_no: str) -> dict[str, str]:
    detail = api.get(f"/complaints/{tracking_no}")
    return {"If-Match": detail["ETag"]} if detail.status_code == 200 else {}


def ask(api, case, **overrides):  # type: ignore[no-untyped-def]
    payload = {
        "kind": "quality_lab_test",
        "department": "quality",
        "assignee": "handler",
        "request": "请对退回的电热水壶做漏电检测，并出具检测报告。",
        "due_in_days": 2,
        **overrides,
    }
    return api.post(f"/complaints/{case.tracking_no}/coordination-tasks", payload, headers=etag(api, case.tracking_no))


def upload(user, task_id: int, name: str = "检测报告.pdf", content: bytes | None = None):  # type: ignore[no-untyped-def]
    from accounts.models import ApiToken

    _, raw = ApiToken.issue(user, "upload")
    return Client().post(
        f"/api/v1/coordination-tasks/{task_id}/attachments",
        {"file": _named(content or pdf(), name), "kind": "third_party_proof", "description": "实验室报告"},
        headers={"Authorization": f"Bearer {raw}"},
    )


def _named(content: bytes, name: str):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def actions_of(case) -> list[str]:  # type: ignore[no-untyped-def]
    """The case's ledger actions, without the reads of personal data (those are tested in privacy)."""
    events = LedgerEvent.objects.filter(complaint=case).exclude(action="view_personal")
    return list(events.order_by("seq").values_list("action", flat=True))


def test_task_goes_from_request_to_attachment_to_result(cast, case, api_as):
    agent, handler = api_as(cast.agent), api_as(cast.handler)
    with time_machine.travel(at(2025, 9, 30, 10), tick=False):
        created = ask(agent, case)
    assert created.status_code == 201, created.content
    task = created.json()
    # two working days after 30 September: 1–8 October are the National Day holiday
    assert datetime.fromisoformat(task["due_at"]) == eod(2025, 10, 10)
    assert task["status"] == "open" and task["blocking"] is True and task["assignee"] == "handler"
    assert Notification.objects.filter(recipient=cast.handler, kind="coordination_task").count() == 1

    # the quality handler cannot see the case, but sees their task with the case's essentials only
    assert handler.get(f"/complaints/{case.tracking_no}").status_code == 404
    seen = handler.get(f"/coordination-tasks/{task['id']}")
    assert seen.status_code == 200
    body = seen.json()
    assert body["request"].startswith("请对退回的电热水壶") and body["case"]["product_name"] == "电热水壶"
    assert "张三" not in seen.content.decode() and "138" not in seen.content.decode()
    assert [t["id"] for t in handler.get("/coordination-tasks").json()] == [task["id"]]

    attached = upload(cast.handler, task["id"])
    assert attached.status_code == 201, attached.content
    item = Evidence.objects.get(pk=attached.json()["id"])
    assert item.complaint_id == case.pk and item.added_by_user == cast.handler and not item.shown_to_consumer
    assert list(CoordinationTask.objects.get().attachments.all()) == [item]

    done = handler.post(f"/coordination-tasks/{task['id']}/complete", {"result": "检测合格，未发现漏电。"})
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "done" and done.json()["completed_by"] == "handler"
    assert done.json()["attachments"][0]["filename"] == "检测报告.pdf"
    assert Notification.objects.filter(recipient=cast.agent, kind="coordination_task_done").exists()

    events = LedgerEvent.objects.filter(complaint=case).order_by("seq")
    assert actions_of(case)[-3:] == ["create_task", "add_evidence", "complete_task"]
    create, evidence, complete = list(events)[-3:]
    assert create.data["department"] == "quality" and create.data["kind"] == "quality_lab_test"
    assert "请对" not in str(create.data)  # the request is encrypted in the event
    assert evidence.data["task_id"] == task["id"] and evidence.data["evidence_id"] == item.pk
    assert evidence.actor == f"staff:{cast.handler.pk}"
    assert complete.data["attachments"] == [item.pk] and complete.data["task_status"] == "done"


def test_the_case_agent_attaches_through_the_evidence_upload(cast, case, api_as):
    task = ask(api_as(cast.agent), case).json()
    attached = upload(cast.agent, task["id"], name="物流单.png", content=__import__("evidence").demo_files.png())
    assert attached.status_code == 201
    event = LedgerEvent.objects.filter(complaint=case, action="add_evidence").get()
    assert "task_id" not in event.data  # evidence.actions.add_evidence recorded it
    assert CoordinationTask.objects.get().attachments.count() == 1


def test_refusals_name_the_field_and_change_nothing(cast, case, api_as):
    agent = api_as(cast.agent)
    version = Complaint.objects.get(pk=case.pk).version

    def refused(expect_field: str, **overrides) -> None:  # type: ignore[no-untyped-def]
        response = ask(agent, case, **overrides)
        assert response.status_code == 422, response.content
        assert expect_field in [e["field"] for e in response.json()["errors"]], response.content

    refused("kind", kind="tea_tasting")
    refused("department", department="nowhere")
    refused("assignee", assignee="qagent_missing")
    refused("assignee", assignee="agent2")  # a service agent, not of the quality department
    refused("request", request="检")
    refused("due_in_days", due_in_days=0)
    refused("due_in_days", due_in_days=61)
    with time_machine.travel(at(2025, 9, 29, 10), tick=False):
        refused("due_on", due_on="2025-10-03")  # National Day
        refused("due_on", due_on="2025-09-29")  # today
        refused("due_on", due_in_days=2, due_on="2025-10-09")
    assert CoordinationTask.objects.count() == 0
    assert Complaint.objects.get(pk=case.pk).version == version
    task = ask(agent, case).json()
    handler = api_as(cast.handler)
    empty = handler.post(f"/coordination-tasks/{task['id']}/complete", {"result": ""})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "result"
    handler.post(f"/coordination-tasks/{task['id']}/complete", {"result": "已完成检测。"})
    again = handler.post(f"/coordination-tasks/{task['id']}/complete", {"result": "再次完成。"})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "task"
    cancel = agent.post(f"/coordination-tasks/{task['id']}/cancel", {"reason": "不需要了"})
    assert cancel.status_code == 422 and cancel.json()["errors"][0]["field"] == "task"


def test_an_explicit_due_date_must_be_a_future_working_day(cast, case, api_as):
    with time_machine.travel(at(2025, 9, 29, 10), tick=False):
        response = ask(api_as(cast.agent), case, due_in_days=None, due_on="2025-10-11")  # a make-up Saturday
    assert response.status_code == 201, response.content
    assert datetime.fromisoformat(response.json()["due_at"]) == eod(2025, 10, 11)


def test_who_may_do_what_with_a_task(cast, case, api_as):
    task = ask(api_as(cast.agent), case).json()
    tid = task["id"]
    # anonymous
    assert api_as().get(f"/coordination-tasks/{tid}").status_code == 401
    assert api_as().post(f"/coordination-tasks/{tid}/complete", {"result": "完成"}).status_code == 401
    # another department (logistics) sees neither the case nor the task
    outsider = api_as(cast.outsider)
    assert outsider.get(f"/complaints/{case.tracking_no}/coordination-tasks").status_code == 404
    assert outsider.get(f"/coordination-tasks/{tid}").status_code == 404
    assert outsider.post(f"/coordination-tasks/{tid}/complete", {"result": "完成"}).status_code == 404
    assert ask(outsider, case).status_code == 404
    # read-only roles see the case's tasks but change nothing
    auditor = api_as(cast.auditor)
    assert auditor.get(f"/complaints/{case.tracking_no}/coordination-tasks").status_code == 200
    assert auditor.post(f"/coordination-tasks/{tid}/complete", {"result": "完成"}).status_code == 403
    analyst = api_as(cast.analyst)
    assert analyst.get(f"/complaints/{case.tracking_no}/coordination-tasks").json()[0]["request"] == "***"
    # a colleague of the task's department (not the named assignee) may answer it too
    qagent = api_as(cast.quality_agent)
    assert qagent.get(f"/coordination-tasks/{tid}").status_code == 200
    # but the department's people take no other action on the case
    handler = api_as(cast.handler)
    assert handler.post(f"/coordination-tasks/{tid}/cancel", {"reason": "不想做"}).status_code == 403
    assert handler.post(f"/complaints/{case.tracking_no}/notes", {"text": "看看"}).status_code == 404
    assert ask(handler, case).status_code == 404
    # the quality supervisor may hand the task on inside the department, not to another one
    qsup = api_as(cast.quality_supervisor)
    moved = qsup.post(f"/coordination-tasks/{tid}/reassign", {"assignee": "qagent"})
    assert moved.status_code == 200 and moved.json()["assignee"] == "qagent"
    away = qsup.post(f"/coordination-tasks/{tid}/reassign", {"department": "logistics"})
    assert away.status_code == 422 and away.json()["errors"][0]["field"] == "department"
    assert handler.post(f"/coordination-tasks/{tid}/reassign", {"assignee": "handler"}).status_code == 403
    # the case's agent may send it to another department and cancel it
    agent = api_as(cast.agent)
    assert agent.post(f"/coordination-tasks/{tid}/reassign", {"department": "logistics"}).json()["department"] == (
        "logistics"
    )
    assert qagent.get(f"/coordination-tasks/{tid}").status_code == 404  # no longer theirs
    cancelled = agent.post(f"/coordination-tasks/{tid}/cancel", {"reason": "投诉人已撤回检测要求"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert actions_of(case)[-4:] == ["create_task", "reassign_task", "reassign_task", "cancel_task"]


def test_a_stale_version_changes_nothing(cast, case, api_as):
    agent = api_as(cast.agent)
    response = agent.post(
        f"/complaints/{case.tracking_no}/coordination-tasks",
        {"kind": "billing_check", "department": "quality", "request": "请核对扣款记录。", "version": 1},
    )
    assert response.status_code == 409 and CoordinationTask.objects.count() == 0
