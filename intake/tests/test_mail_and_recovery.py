"""Mail through a real SMTP server on loopback: the receipt, and recovery of a lost access code."""

import re

from django.test import Client

from complaints.models import Complaint
from intake.tests.test_public_pages import form, receipt_of


def test_the_receipt_is_mailed_with_number_and_code(cast, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # sent after commit
        tracking_no, code = receipt_of(Client().post("/", form(complainant_email="li.si@example.com")))
    [message] = smtp_server.messages
    assert message["To"] == "li.si@example.com" and tracking_no in message["Subject"]
    assert code in message.get_content()


def test_a_dead_mail_server_loses_nothing(cast, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/", form(complainant_email="li.si@example.com"))
    assert response.status_code == 201 and Complaint.objects.count() == 1


def test_a_lost_access_code_is_replaced_through_a_mailed_one_time_code(cast, smtp_server):
    client = Client()
    tracking_no, old_code = receipt_of(client.post("/", form(complainant_email="li.si@example.com")))
    smtp_server.messages.clear()
    step1 = client.post("/status/recover/", {"tracking_no": tracking_no})
    assert step1.status_code == 200
    one_time = re.search(r"\b(\d{6})\b", smtp_server.messages[0].get_content()).group(1)
    wrong = client.post(
        "/status/recover/",
        {"step": "verify", "tracking_no": tracking_no, "code": "000000" if one_time != "000000" else "111111"},
    )
    assert wrong.status_code == 422
    done = client.post("/status/recover/", {"step": "verify", "tracking_no": tracking_no, "code": one_time})
    new_tracking_no, new_code = receipt_of(done)
    assert new_tracking_no == tracking_no and new_code != old_code
    assert client.post("/status/", {"tracking_no": tracking_no, "access_code": old_code}).status_code == 404
    assert client.post("/status/", {"tracking_no": tracking_no, "access_code": new_code}).status_code == 200
    reused = client.post("/status/recover/", {"step": "verify", "tracking_no": tracking_no, "code": one_time})
    assert reused.status_code == 422  # one time only


def test_recovery_does_not_tell_whether_a_number_exists(cast, smtp_server):
    unknown = Client().post("/status/recover/", {"tracking_no": "TS20000101-000001"})
    assert unknown.status_code == 200 and smtp_server.messages == []
    assert "15" in unknown.content.decode()
