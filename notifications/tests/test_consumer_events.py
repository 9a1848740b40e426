"""Consumer messages per case event, through Django's SMTP backend to a real SMTP server on loopback,
in Chinese and English."""

import pytest

from complaints import actions
from complaints.ledgering import Actor
from notifications import service
from notifications.choices import Event
from notifications.events import consumer_event, on_case_event
from notifications.models import Delivery, MessageTemplate

from .conftest import accepted, fresh, in_progress, new_case

CONSUMER_EVENTS = [
    (Event.ACKNOWLEDGED, "投诉已受理", "Your complaint has been accepted"),
    (Event.ASSIGNED, "投诉已分派", "Your complaint has been assigned"),
    (Event.AWAITING_INFORMATION, "请补充信息", "We need more information"),
    (Event.REMEDY_PROPOSED, "处理方案", "A proposed resolution"),
    (Event.RESOLVED, "投诉已解决", "Your complaint has been resolved"),
    (Event.SURVEY, "请评价我们的处理", "How did we do?"),
    (Event.REOPENED, "投诉已重开", "Your complaint has been reopened"),
]


@pytest.mark.parametrize("event,zh_subject,en_subject", CONSUMER_EVENTS)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_consumer_event_is_mailed_in_the_complaints_language(
    cast, body, smtp_server, django_capture_on_commit_callbacks, event, zh_subject, en_subject, language
):
    # The remedy e-mail is seeded inactive (resolutions mails the offer itself): an admin may turn it on.
    MessageTemplate.objects.filter(event=event).update(active=True)
    complaint = in_progress(cast, body, language=language, complainant_name="张三")
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = service.notify_consumer(complaint, event)
    [mail] = smtp_server.messages
    text = mail.get_content()
    assert mail["To"] == "zhang.san@example.com"
    assert (en_subject if language == "en" else zh_subject) in mail["Subject"]
    assert complaint.tracking_no in mail["Subject"]
    assert ("Dear 张三" if language == "en" else "张三，您好") in text or (event == Event.SURVEY and "张三" in text)
    # The headers of intake/mail.py: a reply finds the case.
    assert mail["X-ComplaintDesk-Tracking"] == complaint.tracking_no
    assert complaint.tracking_no in mail["Message-ID"]
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "/notifications/unsubscribe/" in mail["List-Unsubscribe"]
    assert "/notifications/unsubscribe/" in text
    assert "{" not in text  # every placeholder filled
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
    assert delivery.sent_at is not None


def test_accepting_a_case_mails_the_acknowledgement_through_the_case_event(
    cast, body, smtp_server, django_capture_on_commit_callbacks
):
    complaint = new_case(body)
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept(complaint, actor=Actor.staff(cast.supervisor))
    subjects = [m["Subject"] for m in smtp_server.messages]
    assert subjects == [f"投诉已受理：{complaint.tracking_no}"]
    complaint = fresh(complaint)
    text = smtp_server.messages[0].get_content()
    assert complaint.department.name in text
    assert Delivery.objects.get(complaint=complaint).event == "acknowledged"


def test_resolving_and_asking_for_information_mail_the_consumer_in_english(
    cast, body, smtp_server, django_capture_on_commit_callbacks
):
    complaint = in_progress(cast, body, language="en")
    agent = Actor.staff(cast.agent)
    with django_capture_on_commit_callbacks(execute=True):
        complaint = actions.wait_for_consumer(complaint, actor=agent, message="请提供购买凭证照片。")
    with django_capture_on_commit_callbacks(execute=True):
        complaint = actions.resume(fresh(complaint), actor=agent)
        actions.resolve(fresh(complaint), actor=agent, outcome="executed", note="已为您更换新品。")
    subjects = [m["Subject"] for m in smtp_server.messages]
    assert subjects == [
        f"We need more information: {complaint.tracking_no}",
        f"Your complaint has been resolved: {complaint.tracking_no}",
    ]


def test_a_proposal_is_mailed_once_by_the_offer_mail_not_twice(
    cast, body, smtp_server, django_capture_on_commit_callbacks
):
    complaint = in_progress(cast, body)
    with django_capture_on_commit_callbacks(execute=True):
        actions.propose_resolution(complaint, actor=Actor.staff(cast.agent), text="退货退款 199 元。", amount="199")
    assert len(smtp_server.messages) == 1  # resolutions.mail's offer mail
    assert not Delivery.objects.filter(complaint=complaint, event="remedy_proposed", channel="email").exists()


def test_case_actions_map_to_consumer_events(cast, body):
    complaint = accepted(cast, body)
    assert consumer_event(complaint, "accept") == "acknowledged"
    assert consumer_event(complaint, "assign") == "assigned"
    assert consumer_event(complaint, "wait_for_consumer") == "awaiting_information"
    assert consumer_event(complaint, "propose_resolution") == "remedy_proposed"
    assert consumer_event(complaint, "resolve") == "resolved"
    assert consumer_event(complaint, "accept_proposal") == "resolved"
    assert consumer_event(complaint, "reopen") == "reopened"
    assert consumer_event(complaint, "add_note") is None
    # An external outcome tells the consumer only when it resolved the case.
    assert consumer_event(complaint, "record_external_outcome") is None
    complaint.status, complaint.outcome = "resolved", "external_decision"
    assert consumer_event(complaint, "record_external_outcome") == "resolved"


def test_a_reopened_case_is_mailed_from_the_case_event(cast, body, smtp_server, django_capture_on_commit_callbacks):
    complaint = accepted(cast, body)
    with django_capture_on_commit_callbacks(execute=True):
        on_case_event(complaint.pk, "reopen")
    [mail] = smtp_server.messages
    assert mail["Subject"] == f"投诉已重开：{complaint.tracking_no}"


def test_values_registered_by_another_app_are_added_at_render_time_and_never_stored(
    cast, body, smtp_server, django_capture_on_commit_callbacks
):
    from notifications import registry

    def survey_link(delivery):  # type: ignore[no-untyped-def]
        return {"link": f"https://survey.example/{delivery.complaint.tracking_no}/SECRET-TOKEN"}

    registry.register_context("survey", survey_link)
    try:
        complaint = accepted(cast, body)
        with django_capture_on_commit_callbacks(execute=True):
            [delivery] = service.notify_consumer(complaint, "survey")
    finally:
        registry.unregister("survey", survey_link)
    assert f"https://survey.example/{complaint.tracking_no}/SECRET-TOKEN" in smtp_server.messages[0].get_content()
    delivery.refresh_from_db()
    assert "SECRET-TOKEN" not in str(delivery.context) and delivery.status == "sent"


def test_sms_goes_to_consumers_who_prefer_it(cast, body, django_capture_on_commit_callbacks, caplog):
    complaint = accepted(cast, body, preferred_contact="sms", complainant_email="")
    with caplog.at_level("INFO", logger="complaintdesk.sms"), django_capture_on_commit_callbacks(execute=True):
        [delivery] = service.notify_consumer(complaint, "resolved")
    delivery.refresh_from_db()
    assert (delivery.channel, delivery.status) == ("sms", "sent")
    from notifications.sending import render
    from notifications.sms import text_fingerprint

    _, text, _ = render(delivery)
    # The logging adapter masks the number and logs the text's length and a short hash, never the text.
    assert f"SMS to +861380013****: {len(text)} characters, sha256 {text_fingerprint(text)}" in caplog.text
    assert complaint.tracking_no not in caplog.text and "13800138000" not in caplog.text


def test_staff_events_are_refused_for_the_consumer(cast, body):
    with pytest.raises(ValueError):
        service.notify_consumer(accepted(cast, body), "sla_breach")
