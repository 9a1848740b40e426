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
    one_time = re.search(r"\b([2-9A-HJ-NP-Z]{12})\b", smtp_server.messages[0].get_content()).group(1)
    wrong = client.post(
        "/status/recover/",
        {"step": "verify", "tracking_no": tracking_no, "code": "2" * 12 if one_time != "2" * 12 else "3" * 12},
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


def test_recovery_codes_are_as_long_as_access_codes_and_guessing_one_case_from_many_addresses_stops(
    cast, smtp_server, settings
):
    """Issue 9: the recovery code has the access code's 60 bits, and wrong recovery codes are counted per
    tracking number from every address together: past FAILURES_PER_CASE even the right code waits."""
    from intake.access import FAILURES_PER_CASE

    settings.COMPLAINTDESK_RATELIMIT = True
    tracking_no, _code = receipt_of(Client().post("/", form(complainant_email="li.si@example.com")))
    smtp_server.messages.clear()
    Client(REMOTE_ADDR="198.51.100.1").post("/status/recover/", {"tracking_no": tracking_no})
    one_time = re.search(r"\b([2-9A-HJ-NP-Z]{12})\b", smtp_server.messages[0].get_content()).group(1)
    for n in range(FAILURES_PER_CASE):
        # A new code is asked for now and then (each has 5 tries), and every guess comes from a new address.
        guesser = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")
        if n % 4 == 0:
            guesser.post("/status/recover/", {"tracking_no": tracking_no})
        guess = guesser.post("/status/recover/", {"step": "verify", "tracking_no": tracking_no, "code": "Z" * 12})
        assert guess.status_code == 422
    latest = re.search(r"\b([2-9A-HJ-NP-Z]{12})\b", smtp_server.messages[-1].get_content()).group(1)
    assert latest != one_time
    locked = Client(REMOTE_ADDR="192.0.2.77").post(
        "/status/recover/", {"step": "verify", "tracking_no": tracking_no, "code": latest}
    )
    assert locked.status_code == 429
