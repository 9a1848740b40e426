"""Overdue tasks on frozen clocks across China's National Day holiday (1–8 October 2025, with the
make-up working Saturday of 11 October): on the case, in the supervisor view, in the assignee's queue."""

import time_machine

from accounts.models import Notification
from complaints.ledgering import Actor
from complaints.tests.clock import _fresh_calendar, at, eod  # noqa: F401 (the fixture is used by name)
from investigation import actions
from investigation.models import CoordinationTask

from .conftest import file_case, logged_in, work_on


def _tasks_before_the_holiday(cast, body, org):  # type: ignore[no-untyped-def]
    """On Tuesday 30 September: a lab test due in 2 working days, a logistics trace due in 5."""
    with time_machine.travel(at(2025, 9, 30, 10), tick=False):
        complaint, _ = file_case(body, org_unit=org.store_sz.pk)
        complaint = work_on(cast, complaint)
        lab = actions.create_task(
            complaint,
            actor=Actor.staff(cast.agent),
            kind="quality_lab_test",
            department=org.quality,
            assignee=cast.handler,
            request="请检测退回的电热水壶是否漏电。",
            due_in_days=2,
        )
        trace = actions.create_task(
            complaint,
            actor=Actor.staff(cast.agent),
            kind="logistics_trace",
            department=org.quality,
            request="请核对退货包裹的签收记录。",
            due_in_days=5,
            blocking=False,
        )
    return complaint, lab, trace


def test_due_dates_skip_the_holiday(cast, body, org):
    _, lab, trace = _tasks_before_the_holiday(cast, body, org)
    assert lab.due_at == eod(2025, 10, 10)  # 9 and 10 October
    # 9 and 10 October, Saturday 11 October (a make-up working day), 13 and 14 October
    assert trace.due_at == eod(2025, 10, 14)


def test_overdue_shows_on_the_case_the_supervisor_view_and_the_queue(cast, body, org):
    complaint, lab, trace = _tasks_before_the_holiday(cast, body, org)
    with time_machine.travel(at(2025, 10, 10, 23, 0), tick=False):
        assert not lab.is_overdue()
        page = logged_in(cast.agent).get(f"/staff/cases/{complaint.tracking_no}/").content.decode()
        assert 'id="tasks-overdue"' not in page
        assert actions.notify_overdue() == 0
    with time_machine.travel(at(2025, 10, 11, 0, 1), tick=False):
        case_page = logged_in(cast.agent).get(f"/staff/cases/{complaint.tracking_no}/").content.decode()
        assert 'id="tasks-overdue"' in case_page
        row = case_page[case_page.index(f'id="task-{lab.pk}"') - 40 : case_page.index(f'id="task-{lab.pk}"') + 200]
        assert 'class="sla-breached"' in row

        supervisor = logged_in(cast.supervisor).get("/staff/supervisor/").content.decode()
        section = supervisor[supervisor.index('id="overdue-tasks"') :]
        section = section[: section.index("</ul>")]
        assert complaint.tracking_no in section and "质量检测" in section and "物流追踪" not in section
        # the quality supervisor sees it too: it is addressed to their department
        qsup = logged_in(cast.quality_supervisor).get("/staff/supervisor/").content.decode()
        assert f"/staff/investigation/tasks/{lab.pk}/" in qsup

        queue = logged_in(cast.handler).get("/staff/investigation/tasks/").content.decode()
        assert queue.index(f'id="my-task-{lab.pk}"') < queue.index(f'id="my-task-{trace.pk}"')
        assert f'id="my-task-{lab.pk}" class="sla-breached overdue"' in queue
        assert f'id="my-task-{trace.pk}" class' not in queue
        assert 'id="tasks-overdue-count"' in queue

        # told once: the assignee and the case's owner
        assert actions.notify_overdue() == 1
        assert actions.notify_overdue() == 0
        told = set(
            Notification.objects.filter(kind="coordination_task_overdue").values_list("recipient__username", flat=True)
        )
        assert told == {"handler", "agent"}


def test_a_done_task_is_never_overdue(cast, body, org):
    _complaint, lab, _trace = _tasks_before_the_holiday(cast, body, org)
    with time_machine.travel(at(2025, 10, 9, 15), tick=False):
        actions.complete_task(lab, actor=Actor.staff(cast.handler), result="检测合格。")
    with time_machine.travel(at(2025, 10, 20, 9), tick=False):
        assert not CoordinationTask.objects.get(pk=lab.pk).is_overdue()
        queue = logged_in(cast.handler).get("/staff/investigation/tasks/").content.decode()
        assert f'id="my-task-{lab.pk}"' not in queue
        done = logged_in(cast.handler).get("/staff/investigation/tasks/?state=done").content.decode()
        assert f'id="my-task-{lab.pk}"' in done
