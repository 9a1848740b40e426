"""A failed send is retried with backoff by the periodic job, shown on the case as failed after the
last attempt, retried by staff on demand, and never blocks or rolls back the case."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from complaints import actions
from complaints.ledgering import Actor
from core.scheduler import jobs
from notifications.jobs import retry_due
from notifications.models import Delivery

from .conftest import fresh, logged_in, new_case, page


def test_a_mail_server_that_is_down_leaves_the_case_accepted_and_the_message_queued(
    cast, body, smtp_down, django_capture_on_commit_callbacks
):
    complaint = new_case(body)
    with django_capture_on_commit_callbacks(execute=True):
        updated = actions.accept(complaint, actor=Actor.staff(cast.supervisor))
    complaint = fresh(complaint)
    assert complaint.status == "accepted" and complaint.version == updated.version
    delivery = Delivery.objects.get(complaint=complaint)
    assert delivery.status == "queued" and delivery.attempts == 1
    assert "Connection" in delivery.last_error or "refused" in delivery.last_error.lower()
    # The first retry comes a minute later.
    assert timedelta(seconds=50) < delivery.next_attempt_at - timezone.now() <= timedelta(minutes=1)


def test_retries_back_off_then_fail_and_the_case_page_shows_the_failure(cast, body, smtp_down, settings):
    from notifications import service

    complaint = new_case(body)
    complaint = fresh(actions.accept(complaint, actor=Actor.staff(cast.supervisor)))
    [delivery] = service.notify_consumer(complaint, "assigned")
    start = timezone.now()
    gaps = []
    with time_machine.travel(start, tick=False) as clock:
        assert retry_due()["messages"] == 1
        for _ in range(4):
            delivery.refresh_from_db()
            assert delivery.status == "queued"
            gaps.append(round((delivery.next_attempt_at - timezone.now()).total_seconds() / 60))
            assert retry_due()["messages"] == 0  # not due yet
            clock.move_to(delivery.next_attempt_at)
            retry_due()
    delivery.refresh_from_db()
    assert gaps == [1, 5, 30, 120]
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 5, None)
    assert fresh(complaint).version == complaint.version  # the case never changed
    html = page(cast.agent, complaint)
    assert f'id="delivery-{delivery.pk}" class="delivery-failed"' in html
    assert "发送失败" in html and delivery.last_error[:20] in html and 'id="notifications-failed"' in html
    assert f'id="retry-{delivery.pk}"' in html


def test_retry_now_on_the_case_page_sends_the_failed_message(cast, body, smtp_down, smtp_server):
    complaint = fresh(actions.accept(new_case(body), actor=Actor.staff(cast.supervisor)))
    delivery = Delivery.objects.create(
        complaint=complaint,
        event="acknowledged",
        channel="email",
        recipient=complaint.complainant_email,
        status="failed",
        attempts=5,
        last_error="ConnectionRefusedError",
    )
    client = logged_in(cast.supervisor)
    with django_capture(client):
        response = client.post(f"/staff/notifications/{complaint.tracking_no}/retry/{delivery.pk}/")
    assert response.status_code == 302 and response["Location"].endswith("#notifications")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.retried_by) == ("sent", 1, cast.supervisor)
    assert len(smtp_server.messages) == 1


def django_capture(client):  # type: ignore[no-untyped-def]
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_a_sent_message_cannot_be_retried_and_the_page_says_why(cast, body):
    complaint = fresh(actions.accept(new_case(body), actor=Actor.staff(cast.supervisor)))
    delivery = Delivery.objects.create(
        complaint=complaint, event="acknowledged", channel="email", recipient="a@example.com", status="sent", attempts=1
    )
    response = logged_in(cast.supervisor).post(f"/staff/notifications/{complaint.tracking_no}/retry/{delivery.pk}/")
    assert response.status_code == 422 and "只能重试发送失败或待发送的消息" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.retried_by is None


def test_read_only_and_other_department_users_cannot_retry(cast, body):
    complaint = fresh(actions.accept(new_case(body), actor=Actor.staff(cast.supervisor)))
    delivery = Delivery.objects.create(
        complaint=complaint,
        event="acknowledged",
        channel="email",
        recipient="a@example.com",
        status="failed",
        attempts=5,
    )
    url = f"/staff/notifications/{complaint.tracking_no}/retry/{delivery.pk}/"
    from django.test import Client

    assert Client().post(url).status_code == 302  # to the login page
    assert logged_in(cast.auditor).post(url).status_code == 403
    assert logged_in(cast.outsider).post(url).status_code == 404
    html = page(cast.auditor, complaint)
    assert f'id="delivery-{delivery.pk}"' in html and f'id="retry-{delivery.pk}"' not in html
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.retried_by is None


def test_the_scheduler_runs_the_retry_job():
    assert ("notifications_retry", retry_due) in jobs()


def test_the_panel_costs_one_query(cast, body, django_assert_max_num_queries):
    from django.template import Context, Template
    from django.test import RequestFactory

    complaint = fresh(actions.accept(new_case(body), actor=Actor.staff(cast.supervisor)))
    for n in range(5):
        Delivery.objects.create(complaint=complaint, event="assigned", channel="email", recipient=f"{n}@example.com")
    request = RequestFactory().get("/")
    request.user = cast.agent
    from complaints.permissions import Principal

    Principal.of(cast.agent)  # the case page has read it already
    with django_assert_max_num_queries(1):
        html = Template("{% load notifications_panel %}{% notifications_panel %}").render(
            Context({"complaint": complaint, "request": request, "c": {}})
        )
    assert html.count('class="delivery-queued"') == 5


# --- "retry now" never sends a message twice ------------------------------------------------------


def _queued(complaint, **fields):  # type: ignore[no-untyped-def]
    return Delivery.objects.create(
        complaint=complaint, event="acknowledged", channel="email", recipient=complaint.complainant_email, **fields
    )


def test_retry_now_refuses_a_message_that_is_being_sent(cast, body, smtp_server):
    from notifications.sending import _claim

    complaint = fresh(actions.accept(new_case(body), actor=Actor.staff(cast.supervisor)))
    delivery = _queued(complaint, status="queued", next_attempt_at=timezone.now())
    assert _claim(Delivery, delivery.pk, timezone.now())  # a worker has taken it and is sending
    client = logged_in(cast.supervisor)
    with django_capture(client):
        response = client.post(f"/staff/notifications/{complaint.tracking_no}/retry/{delivery.pk}/")
    assert response.status_code == 422 and "正在发送或已安排" in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.retried_by) == (1, None) and smtp_server.messages == []


def test_retry_now_works_on_the_database_row_not_on_a_stale_copy(cast, body):
    """A copy read before the job reserved the row still says failed: the compare-and-set refuses."""
    from core.errors import ValidationError
    from notifications import actions as notification_actions

    complaint = fresh(actions.accept(new_case(body), actor=Actor.staff(cast.supervisor)))
    stale = _queued(complaint, status="failed", attempts=5)
    Delivery.objects.filter(pk=stale.pk).update(status="queued", next_attempt_at=timezone.now() + timedelta(minutes=9))
    try:
        notification_actions.retry(stale, user=cast.supervisor)
    except ValidationError as exc:
        assert "delivery" in exc.errors
    else:
        raise AssertionError("retried a reserved message")
    assert Delivery.objects.get(pk=stale.pk).retried_by is None


def test_two_clicks_and_the_job_send_a_failed_message_once(cast, body, smtp_server):
    from django.test import TestCase

    from notifications import actions as notification_actions

    complaint = fresh(actions.accept(new_case(body), actor=Actor.staff(cast.supervisor)))
    delivery = _queued(complaint, status="failed", attempts=5)
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        notification_actions.retry(delivery, user=cast.supervisor)
        notification_actions.retry(delivery, user=cast.agent)  # due still: accepted, but it sends nothing more
    retry_due()  # the job finds it due too
    for callback in callbacks:
        callback()
    assert len(smtp_server.messages) == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 1


def test_the_retry_job_enqueues_the_sends_instead_of_sending(cast, body, settings, smtp_server):
    from notifications.models import WebhookDelivery, WebhookSubscription
    from notifications.sending import attempt
    from notifications.tasks import send_delivery
    from notifications.webhooks import encrypt_secret

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    complaint = fresh(actions.accept(new_case(body), actor=Actor.staff(cast.supervisor)))
    due = [_queued(complaint, status="queued", next_attempt_at=timezone.now()) for _ in range(3)]
    hook = WebhookSubscription.objects.create(
        name="ERP", url="http://127.0.0.1:9/", secret_encrypted=encrypt_secret("x" * 30)
    )
    WebhookDelivery.objects.create(
        subscription=hook, event="accept", complaint=complaint, payload="{}", next_attempt_at=timezone.now()
    )
    assert retry_due() == {"messages": 3, "webhooks": 1}
    assert smtp_server.messages == []  # nothing sent by the scheduler itself
    assert retry_due() == {"messages": 0, "webhooks": 0}  # reserved: not enqueued twice
    enqueued = [r for r in send_delivery.get_backend().results if r.task.name == "send_delivery"]
    assert sorted(r.args[0] for r in enqueued) == sorted(d.pk for d in due) and all(len(r.args) == 2 for r in enqueued)
    # The worker runs the task; a duplicate of it (or a task whose reservation expired) sends nothing.
    from datetime import datetime

    pk, reserved = enqueued[0].args
    assert attempt(pk, reserved=datetime.fromisoformat(reserved)) == "sent"
    assert attempt(pk, reserved=datetime.fromisoformat(reserved)) == ""
    assert len(smtp_server.messages) == 1
