"""GET /complaints/{no}/notifications and POST .../{id}/retry: anonymous, a role without the right,
with it, and another department."""

from complaints import actions
from complaints.ledgering import Actor
from complaints.models import Complaint
from ledger.models import LedgerEvent
from ledger.verify import verify
from notifications.models import Delivery

from .conftest import fresh, new_case, page


def _case_with_a_failed_message(cast, body):  # type: ignore[no-untyped-def]
    complaint = fresh(actions.accept(new_case(body), actor=Actor.staff(cast.supervisor)))
    delivery = Delivery.objects.create(
        complaint=complaint,
        event="acknowledged",
        channel="email",
        recipient="zhang.san@example.com",
        status="failed",
        attempts=5,
        last_error="SMTPRecipientsRefused: zhang.san@example.com: 550 unknown",
    )
    return complaint, delivery


def test_staff_of_the_case_list_its_messages_with_addresses(api_as, cast, body):
    complaint, delivery = _case_with_a_failed_message(cast, body)
    response = api_as(cast.agent).get(f"/complaints/{complaint.tracking_no}/notifications")
    assert response.status_code == 200
    [row] = response.json()
    assert row["id"] == delivery.pk and row["recipient"] == "zhang.san@example.com"
    assert (row["status"], row["attempts"], row["last_error"]) == (
        "failed",
        5,
        "SMTPRecipientsRefused: zhang.san@example.com: 550 unknown",
    )


def test_analysts_see_the_addresses_masked(api_as, cast, body):
    complaint, _ = _case_with_a_failed_message(cast, body)
    [row] = api_as(cast.analyst).get(f"/complaints/{complaint.tracking_no}/notifications").json()
    assert row["recipient"] == "z***@example.com"
    assert row["last_error"] == "SMTPRecipientsRefused: z***@example.com: 550 unknown"
    html = page(cast.analyst, complaint)
    assert "zhang.san@example.com" not in html.split('id="notifications"')[1].split("</section>")[0]


def test_anonymous_and_other_departments_do_not_see_the_messages(api_as, cast, body):
    complaint, _ = _case_with_a_failed_message(cast, body)
    path = f"/complaints/{complaint.tracking_no}/notifications"
    assert api_as().get(path).status_code == 401
    assert api_as(cast.outsider).get(path).status_code == 404
    assert api_as(cast.admin).get(path).status_code == 403  # configuration only, no case content


def test_a_writer_of_the_case_retries_a_failed_message(
    api_as, cast, body, smtp_server, django_capture_on_commit_callbacks
):
    complaint, delivery = _case_with_a_failed_message(cast, body)
    version = Complaint.objects.get(pk=complaint.pk).version
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(cast.agent).post(f"/complaints/{complaint.tracking_no}/notifications/{delivery.pk}/retry")
    # Accepted: the send runs after commit, from a task.
    assert response.status_code == 202, response.content
    assert (response.json()["status"], response.json()["attempts"]) == ("queued", 0)
    assert len(smtp_server.messages) == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.retried_by == cast.agent and delivery.retried_at is not None
    # The retry is in the case's chain, and changes nothing on the case: the version stays, the chain verifies.
    event = LedgerEvent.objects.filter(complaint=complaint, action="resend_notification").get()
    assert event.actor == f"staff:{cast.agent.pk}" and event.changes == {}
    assert event.data == {"delivery": delivery.pk, "event": delivery.event, "channel": delivery.channel}
    assert Complaint.objects.get(pk=complaint.pk).version == version
    assert verify().ok


def test_read_only_roles_and_other_departments_cannot_retry(api_as, cast, body):
    complaint, delivery = _case_with_a_failed_message(cast, body)
    path = f"/complaints/{complaint.tracking_no}/notifications/{delivery.pk}/retry"
    assert api_as().post(path).status_code == 401
    assert api_as(cast.auditor).post(path).status_code == 403
    assert api_as(cast.analyst).post(path).status_code == 403
    assert api_as(cast.outsider).post(path).status_code == 404
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.retried_by is None


def test_retrying_a_sent_message_or_another_cases_message_is_refused(api_as, cast, body):
    complaint, delivery = _case_with_a_failed_message(cast, body)
    Delivery.objects.filter(pk=delivery.pk).update(status="sent")
    response = api_as(cast.agent).post(f"/complaints/{complaint.tracking_no}/notifications/{delivery.pk}/retry")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "delivery"
    other = fresh(actions.accept(new_case(body), actor=Actor.staff(cast.supervisor)))
    response = api_as(cast.agent).post(f"/complaints/{other.tracking_no}/notifications/{delivery.pk}/retry")
    assert response.status_code == 404


def test_reading_the_addresses_unmasked_is_a_ledger_event_and_masked_is_not(api_as, cast, body):
    from ledger.models import LedgerEvent

    complaint, _ = _case_with_a_failed_message(cast, body)
    views = LedgerEvent.objects.filter(complaint=complaint, action="view_personal")
    api_as(cast.analyst).get(f"/complaints/{complaint.tracking_no}/notifications")
    assert not views.exists()  # masked: no personal data seen
    api_as(cast.agent).get(f"/complaints/{complaint.tracking_no}/notifications")
    [event] = views
    assert event.data["how"] == "case_api" and event.actor == f"staff:{cast.agent.pk}"
