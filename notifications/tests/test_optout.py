"""The unsubscribe link in every consumer e-mail: signed, per address and purpose; forged links are
refused and change nothing; "no contact" means no messages."""

import re

from django.test import Client

from notifications import service
from notifications.models import Delivery, OptOut
from notifications.tokens import make_token

from .conftest import accepted


def _link(mail) -> str:  # type: ignore[no-untyped-def]
    return re.search(r"http://[^\s>]+/notifications/unsubscribe/[^\s>]+/", mail.get_content()).group(0)


def _mail(complaint, event, capture):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        return service.notify_consumer(complaint, event)


def test_the_unsubscribe_link_stops_further_updates_but_not_surveys(
    cast, body, smtp_server, django_capture_on_commit_callbacks
):
    complaint = accepted(cast, body)
    _mail(complaint, "assigned", django_capture_on_commit_callbacks)
    path = _link(smtp_server.messages[0]).split("://", 1)[1].split("/", 1)[1]
    client = Client()
    shown = client.get("/" + path)
    assert shown.status_code == 200 and "确认退订" in shown.content.decode()
    assert not OptOut.objects.exists()  # opening the link (a mail scanner does) changes nothing
    done = client.post("/" + path, {"scope": "updates"})
    assert done.status_code == 200 and "已退订" in done.content.decode()
    [opt_out] = OptOut.objects.all()
    assert (opt_out.channel, opt_out.purpose, opt_out.address) == ("email", "updates", "zhang.san@example.com")

    [skipped] = _mail(complaint, "resolved", django_capture_on_commit_callbacks)
    assert skipped.status == "skipped" and "退订" in skipped.last_error
    assert len(smtp_server.messages) == 1
    assert not service.may_contact(complaint, "updates") and service.may_contact(complaint, "survey")
    [survey] = _mail(complaint, "survey", django_capture_on_commit_callbacks)
    survey.refresh_from_db()
    assert survey.status == "sent" and len(smtp_server.messages) == 2


def test_the_opt_out_follows_the_address_in_any_case_of_letters_on_another_complaint(
    cast, body, smtp_server, django_capture_on_commit_callbacks
):
    first = accepted(cast, body)
    _mail(first, "assigned", django_capture_on_commit_callbacks)
    Client().post("/" + _link(smtp_server.messages[0]).split("/", 3)[3], {"scope": "all"})
    second = accepted(cast, body, complainant_email="ZHANG.SAN@example.COM")
    [delivery] = _mail(second, "assigned", django_capture_on_commit_callbacks)
    assert delivery.status == "skipped" and not service.may_contact(second, "survey")
    assert len(smtp_server.messages) == 1


def test_mail_programs_one_click_unsubscribe_needs_no_csrf_token(
    cast, body, smtp_server, django_capture_on_commit_callbacks
):
    complaint = accepted(cast, body)
    _mail(complaint, "assigned", django_capture_on_commit_callbacks)
    header = smtp_server.messages[0]["List-Unsubscribe"].strip("<>")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/" + header.split("/", 3)[3], {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert OptOut.objects.get().purpose == "updates"


def test_a_forged_or_tampered_link_is_refused_and_changes_nothing(
    cast, body, smtp_server, django_capture_on_commit_callbacks
):
    complaint = accepted(cast, body)
    _mail(complaint, "assigned", django_capture_on_commit_callbacks)
    good = _link(smtp_server.messages[0]).split("/", 3)[3].rstrip("/")
    token = good.rsplit("/", 1)[1]
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    from django.core import signing

    forged = signing.dumps({"d": 1, "c": "email", "p": "all", "h": "0" * 64}, salt="another-salt")
    client = Client()
    for bad in (tampered, forged, "nonsense", "x" * 600):
        for method in (client.get, client.post):
            response = method(f"/notifications/unsubscribe/{bad}/", {"scope": "all"} if method == client.post else {})
            assert response.status_code == 400, bad
            assert "退订链接无效" in response.content.decode()
    assert not OptOut.objects.exists()


def test_a_scope_the_link_does_not_offer_is_refused(cast, body):
    complaint = accepted(cast, body)
    delivery = Delivery.objects.create(
        complaint=complaint, event="assigned", channel="email", recipient="a@example.com"
    )
    token = make_token(delivery.pk, "email", "survey", "a" * 64)
    response = Client().post(f"/notifications/unsubscribe/{token}/", {"scope": "updates"})
    assert response.status_code == 400 and "请选择退订范围" in response.content.decode()
    assert not OptOut.objects.exists()


def test_the_unsubscribe_page_is_rate_limited(cast, body, settings):
    settings.COMPLAINTDESK_RATELIMIT = True
    settings.COMPLAINTDESK_OPTOUT_RATE_PER_MINUTE = 2
    client = Client()
    codes = [client.get("/notifications/unsubscribe/nonsense/").status_code for _ in range(3)]
    assert codes == [400, 400, 429]


def test_no_contact_wanted_means_no_messages(cast, body, smtp_server, django_capture_on_commit_callbacks):
    complaint = accepted(cast, body, preferred_contact="none")
    deliveries = _mail(complaint, "resolved", django_capture_on_commit_callbacks)
    assert [(d.status, d.last_error) for d in deliveries] == [("skipped", "投诉人选择不需联系。")]
    assert smtp_server.messages == []
    assert not service.may_contact(complaint, "updates") and not service.may_contact(complaint, "survey")


def test_an_opt_out_made_after_queueing_stops_the_message(cast, body, smtp_server, django_capture_on_commit_callbacks):
    from notifications.sending import attempt

    complaint = accepted(cast, body)
    [delivery] = service.notify_consumer(complaint, "assigned")  # no commit yet: still queued
    service.opt_out("email", complaint.complainant_email, "all")
    assert attempt(delivery.pk) == "skipped"
    assert smtp_server.messages == []


def test_staff_record_an_sms_opt_out_in_the_admin_and_it_is_respected(cast, body, django_capture_on_commit_callbacks):
    from notifications.admin import OptOutForm

    form = OptOutForm(data={"channel": "sms", "address": "+86 138-0013-8000", "purpose": "all"})
    assert form.is_valid(), form.errors
    form.save()
    again = OptOutForm(data={"channel": "sms", "address": "13800138000", "purpose": "all"})
    assert not again.is_valid() and "已退订" in str(again.errors)
    assert not OptOutForm(data={"channel": "sms", "address": " ", "purpose": "all"}).is_valid()
    complaint = accepted(cast, body, preferred_contact="sms", complainant_email="")
    [delivery] = _mail(complaint, "resolved", django_capture_on_commit_callbacks)
    assert delivery.status == "skipped" and OptOut.objects.get().source == "staff"


def test_a_link_mailed_before_keyed_opt_outs_still_unsubscribes(cast, body):
    from notifications.addresses import legacy_hash

    complaint = accepted(cast, body)
    delivery = Delivery.objects.create(
        complaint=complaint, event="assigned", channel="email", recipient=complaint.complainant_email
    )
    token = make_token(delivery.pk, "email", "updates", legacy_hash("email", complaint.complainant_email))
    assert Client().post(f"/notifications/unsubscribe/{token}/", {"scope": "updates"}).status_code == 200
    assert OptOut.objects.get().address == complaint.complainant_email
    assert not service.may_contact(complaint, "updates")


def test_the_written_reply_is_transactional_and_ignores_an_opt_out_but_not_no_contact(
    cast, body, smtp_server, django_capture_on_commit_callbacks
):
    """docs/notifications.md: the written reply (书面答复) is mailed despite an opt-out of updates
    or of everything; "no contact" still stops it."""
    from casework.actions import send_reply
    from complaints.ledgering import Actor

    from .conftest import fresh, in_progress

    complaint = in_progress(cast, body)
    service.opt_out("email", complaint.complainant_email, "all")
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(complaint, actor=Actor.staff(cast.agent), text="关于您反映的问题，我们的书面答复如下。")
    reply.refresh_from_db()
    assert reply.delivery == "sent" and len(smtp_server.messages) == 1
    quiet = in_progress(cast, body, preferred_contact="none")
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(fresh(quiet), actor=Actor.staff(cast.agent), text="关于您反映的问题，我们的书面答复如下。")
    reply.refresh_from_db()
    assert reply.delivery == "not_mailed" and len(smtp_server.messages) == 1
