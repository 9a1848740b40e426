"""The case page's investigation panel, the task page and "my tasks": forms, refusals shown under their
field, and who sees which form."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints.ledgering import Actor
from evidence.demo_files import pdf
from investigation import actions
from investigation.models import CoordinationTask, Finding

from .conftest import evidence_on, fresh, logged_in

JUSTIFICATION = "检测报告显示产品无漏电，监控录像显示投诉人自行拆改电源线，与所述情况不符。"


def _ask(cast, case, org, **overrides):  # type: ignore[no-untyped-def]
    values = {
        "kind": "quality_lab_test",
        "department": org.quality,
        "assignee": cast.handler,
        "request": "请检测退回的电热水壶是否漏电。",
        **overrides,
    }
    return actions.create_task(case, actor=Actor.staff(cast.agent), **values)


def test_the_panel_shows_its_forms_to_the_case_team_only(cast, case, org):
    _ask(cast, case, org)
    page = logged_in(cast.agent).get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert 'id="investigation"' in page and 'id="form-create-task"' in page and 'id="form-record-finding"' in page
    assert "请检测退回的电热水壶" in page and 'id="nav-tasks"' in page
    assert "发起协办任务" in page  # the timeline label of the event
    auditor = logged_in(cast.auditor).get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert 'id="coordination-tasks"' in auditor and 'id="form-create-task"' not in auditor
    analyst = logged_in(cast.analyst).get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert "请检测退回的电热水壶" not in analyst


def test_asking_for_a_task_on_the_page(cast, case, org):
    agent = logged_in(cast.agent)
    url = f"/staff/investigation/{case.tracking_no}/tasks/"
    bad = agent.post(url, {"kind": "", "department": "quality", "assignee": "agent2", "request": "", "due_on": "x"})
    html = bad.content.decode()
    assert bad.status_code == 422
    for field in ("kind", "assignee", "request", "due_on"):
        assert f'id="task-error-{field}"' in html, field
    assert CoordinationTask.objects.count() == 0
    ok = agent.post(
        url,
        {
            "kind": "logistics_trace",
            "department": "logistics",
            "request": "请核对退货包裹的签收记录。",
            "due_in_days": "3",
            "blocking": "on",
            "version": fresh(case).version,
        },
    )
    assert ok.status_code == 302 and ok["Location"].endswith("#investigation")
    task = CoordinationTask.objects.get()
    assert task.department == org.logistics and task.blocking and task.assignee is None
    # without an assignee the department hears of it: the outsider is a logistics agent, not told
    assert logged_in(cast.outsider).post(url, {"kind": "other"}).status_code == 404


def test_findings_on_the_page(cast, case):
    agent, supervisor = logged_in(cast.agent), logged_in(cast.supervisor)
    report = evidence_on(case, cast.agent)
    url = f"/staff/investigation/{case.tracking_no}/findings/"
    bad = agent.post(
        url,
        {
            "facts": "经核实：检测合格，无漏电。",
            "root_cause": "design",
            "responsibility": "consumer",
            "nature": "malicious",
        },
    )
    html = bad.content.decode()
    assert (
        bad.status_code == 422 and 'id="finding-error-justification"' in html and 'id="finding-error-evidence"' in html
    )
    assert Finding.objects.count() == 0
    ok = agent.post(
        url,
        {
            "facts": "经核实：检测合格，无漏电。",
            "root_cause": "consumer_misuse",
            "responsibility": "consumer",
            "nature": "malicious",
            "justification": JUSTIFICATION,
            "evidence": [str(report.pk)],
        },
    )
    assert ok.status_code == 302
    finding = Finding.objects.get()
    assert f'id="confirm-finding-{finding.pk}"' not in agent.get(f"/staff/cases/{case.tracking_no}/").content.decode()
    page = supervisor.get(f"/staff/cases/{case.tracking_no}/").content.decode()
    assert f'id="confirm-finding-{finding.pk}"' in page
    refused = supervisor.post(f"/staff/investigation/{case.tracking_no}/findings/{finding.pk}/reject/", {"comment": ""})
    assert refused.status_code == 422 and 'id="finding-error-comment"' in refused.content.decode()
    own = agent.post(f"/staff/investigation/{case.tracking_no}/findings/{finding.pk}/confirm/", {})
    assert own.status_code == 422 and 'id="investigation-error"' in own.content.decode()
    done = supervisor.post(
        f"/staff/investigation/{case.tracking_no}/findings/{finding.pk}/confirm/", {"comment": "同意"}
    )
    assert done.status_code == 302 and fresh(case).nature == "malicious"


def test_the_task_page_for_a_department_that_cannot_see_the_case(cast, case, org):
    task = _ask(cast, case, org)
    handler = logged_in(cast.handler)
    assert handler.get(f"/staff/cases/{case.tracking_no}/").status_code == 404
    page = handler.get(f"/staff/investigation/tasks/{task.pk}/").content.decode()
    assert "请检测退回的电热水壶" in page and "电热水壶" in page
    assert "张三" not in page and "13800138000" not in page and "Zhang.San" not in page
    assert 'id="form-complete-task"' in page and 'id="form-attach"' in page
    assert 'id="form-cancel-task"' not in page and 'id="form-reassign-task"' not in page
    assert f'href="/staff/cases/{case.tracking_no}/"' not in page
    # refusals come back on the task page, under their field
    empty = handler.post(f"/staff/investigation/tasks/{task.pk}/complete/", {"result": ""})
    assert empty.status_code == 422 and 'id="complete-error-result"' in empty.content.decode()
    no_file = handler.post(f"/staff/investigation/tasks/{task.pk}/attach/", {"kind": ""})
    html = no_file.content.decode()
    assert no_file.status_code == 422 and 'id="attach-error-file"' in html and 'id="attach-error-kind"' in html
    from django.core.files.uploadedfile import SimpleUploadedFile

    sent = handler.post(
        f"/staff/investigation/tasks/{task.pk}/attach/",
        {"file": SimpleUploadedFile("检测报告.pdf", pdf()), "kind": "third_party_proof"},
    )
    assert sent.status_code == 302
    done = handler.post(f"/staff/investigation/tasks/{task.pk}/complete/", {"result": "检测合格，无漏电。"})
    assert done.status_code == 302
    page = handler.get(f"/staff/investigation/tasks/{task.pk}/").content.decode()
    assert 'id="task-result"' in page and "检测报告.pdf" in page and 'id="form-complete-task"' not in page
    # another department sees nothing
    assert logged_in(cast.outsider).get(f"/staff/investigation/tasks/{task.pk}/").status_code == 404


def test_the_case_agent_cancels_and_reassigns_on_the_task_page(cast, case, org):
    task = _ask(cast, case, org)
    agent = logged_in(cast.agent)
    page = agent.get(f"/staff/investigation/tasks/{task.pk}/").content.decode()
    assert 'id="form-cancel-task"' in page and 'id="form-reassign-task"' in page
    assert f'href="/staff/cases/{case.tracking_no}/"' in page
    bad = agent.post(f"/staff/investigation/tasks/{task.pk}/reassign/", {"department": "quality", "assignee": "agent2"})
    assert bad.status_code == 422 and 'id="reassign-error-assignee"' in bad.content.decode()
    moved = agent.post(
        f"/staff/investigation/tasks/{task.pk}/reassign/", {"department": "quality", "assignee": "qagent"}
    )
    assert moved.status_code == 302 and CoordinationTask.objects.get().assignee == cast.quality_agent
    no_reason = agent.post(f"/staff/investigation/tasks/{task.pk}/cancel/", {"reason": ""})
    assert no_reason.status_code == 422 and 'id="cancel-error-reason"' in no_reason.content.decode()
    agent.post(f"/staff/investigation/tasks/{task.pk}/cancel/", {"reason": "已改为上门检验。"})
    assert CoordinationTask.objects.get().status == "cancelled"


def test_my_tasks_needs_a_case_role(cast, client):
    assert client.get("/staff/investigation/tasks/").status_code == 302  # to the login page
    assert logged_in(cast.admin).get("/staff/investigation/tasks/").status_code == 403
    assert logged_in(cast.handler).get("/staff/investigation/tasks/").status_code == 200


def test_case_page_queries_do_not_grow_with_tasks(cast, case, org):
    client = logged_in(cast.supervisor)

    def count() -> int:
        client.get(f"/staff/cases/{case.tracking_no}/")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/staff/cases/{case.tracking_no}/").status_code == 200
        return len(queries.captured_queries)

    _ask(cast, case, org)
    one = count()
    for n in range(4):
        task = _ask(cast, case, org, request=f"第 {n} 项检测要求。")
        actions.complete_task(task, actor=Actor.staff(cast.handler), result="完成。")
    assert count() == one
