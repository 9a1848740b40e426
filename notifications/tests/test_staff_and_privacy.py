"""Staff e-mail at SLA warning and breach (besides the in-app notice); a person's data and its erasure
for the privacy app; the demo data."""

from datetime import timedelta

from accounts.models import Notification
from complaints import actions
from customers.models import Customer
from notifications import service
from notifications.models import Delivery, OptOut

from .conftest import accepted, fresh, new_case


def test_an_sla_warning_and_breach_mail_the_supervisors_in_their_language(
    cast, body, smtp_server, django_capture_on_commit_callbacks
):
    cast.supervisor.email, cast.supervisor.language = "sup@example.com", "en"
    cast.supervisor.save(update_fields=["email", "language"])
    complaint = new_case(body)
    assert complaint.owner_id is None and complaint.department_id is not None
    with django_capture_on_commit_callbacks(execute=True):
        actions.sla_tick(now=complaint.ack_warn_at + timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        actions.sla_tick(now=complaint.ack_due_at + timedelta(minutes=1))
    assert Notification.objects.filter(recipient=cast.supervisor, kind="sla_warning").exists()  # in-app stays
    subjects = [(m["To"], m["Subject"]) for m in smtp_server.messages]
    assert subjects == [
        ("sup@example.com", f"SLA warning: complaint {complaint.tracking_no} has used 80% of its time"),
        ("sup@example.com", f"SLA breached: complaint {complaint.tracking_no}"),
    ]
    text = smtp_server.messages[1].get_content()
    assert f"/staff/cases/{complaint.tracking_no}/" in text and "unsubscribe" not in text.lower()
    assert all(d.recipient_user == cast.supervisor for d in Delivery.objects.filter(complaint=complaint))


def test_a_warning_goes_to_the_owner_when_there_is_one(cast, body, smtp_server, django_capture_on_commit_callbacks):
    cast.agent.email = "agent@example.com"
    cast.agent.save(update_fields=["email"])
    from .conftest import in_progress

    complaint = in_progress(cast, body)
    assert complaint.owner == cast.agent
    with django_capture_on_commit_callbacks(execute=True):
        actions.sla_tick(now=complaint.resolution_warn_at + timedelta(minutes=1))
    assert [m["To"] for m in smtp_server.messages] == ["agent@example.com"]


def _customer_case(cast, body):  # type: ignore[no-untyped-def]
    complaint = accepted(cast, body)
    assert complaint.customer_id is not None
    return complaint, Customer.objects.get(pk=complaint.customer_id)


def test_a_persons_data_lists_their_messages_and_opt_outs(cast, body, settings):
    from django.apps import apps

    complaint, customer = _customer_case(cast, body)
    service.notify_consumer(complaint, "assigned")
    service.opt_out("email", complaint.complainant_email, "survey")
    data = apps.get_app_config("notifications").personal_data(customer)
    [message] = data["deliveries"]
    assert (message["tracking_no"], message["event"], message["channel"], message["address"], message["status"]) == (
        complaint.tracking_no,
        "assigned",
        "email",
        "zhang.san@example.com",
        "queued",
    )
    [opt_out] = data["opt_outs"]
    assert (opt_out["channel"], opt_out["purpose"], opt_out["address"]) == ("email", "survey", "zhang.san@example.com")


def test_an_erased_person_keeps_their_opt_out_but_loses_their_addresses(cast, body):
    from django.apps import apps

    complaint, customer = _customer_case(cast, body)
    [delivery] = service.notify_consumer(complaint, "assigned")
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", last_error="550 zhang.san@example.com unknown")
    service.opt_out("email", complaint.complainant_email, "all")
    apps.get_app_config("notifications").erase_personal(customer)
    delivery.refresh_from_db()
    assert (delivery.recipient, delivery.last_error) == ("", "")
    [opt_out] = OptOut.objects.all()
    assert opt_out.address == ""
    # The marker by hash survives: a new complaint from the same address is still not mailed.
    again = accepted(cast, body)
    assert not service.may_contact(again, "updates")
    assert apps.get_app_config("notifications").personal_data(customer)["deliveries"][0]["address"] == ""


def test_the_demo_adds_sent_and_failed_messages_and_an_inactive_subscription(cast, body):
    import random

    from notifications import demo
    from notifications.models import WebhookSubscription

    cases = []
    for n in range(10):
        complaint = accepted(cast, body, complainant_email=f"demo{n}@example.com")
        cases.append(complaint)
    from complaints.models import Complaint

    Complaint.objects.filter(pk__in=[c.pk for c in cases]).update(is_demo=True)
    cases = [fresh(c) for c in cases]
    demo.seed(cases, random.Random(7))
    demo.seed(cases, random.Random(7))  # idempotent
    assert Delivery.objects.filter(status="sent").count() == 8
    assert Delivery.objects.filter(status="failed").count() == 1
    assert WebhookSubscription.objects.get().active is False


def test_an_erasure_after_the_complaints_were_blanked_still_blanks_the_opt_out(cast, body):
    """The privacy app may blank the customer and the complaints before this hook runs: the messages
    still hold the address, and its opt-out must lose the plain address all the same."""
    from django.apps import apps

    from complaints.models import Complaint

    complaint, customer = _customer_case(cast, body)
    service.notify_consumer(complaint, "assigned")
    service.opt_out("email", complaint.complainant_email, "all")
    Complaint.objects.filter(customer=customer).update(complainant_email="", complainant_phone="")
    Customer.objects.filter(pk=customer.pk).update(email="", phone="")
    customer.refresh_from_db()
    apps.get_app_config("notifications").erase_personal(customer)
    [opt_out] = OptOut.objects.all()
    assert opt_out.address == "" and not Delivery.objects.exclude(recipient="").exists()
    assert service.is_opted_out("email", "zhang.san@example.com", "updates")  # the marker stays


def test_opt_out_keys_are_keyed_with_the_secret_key(settings, db):
    import hashlib

    from notifications.addresses import address_hash

    digest = address_hash("sms", "+86 138-0013-8000")
    assert len(digest) == 64 and digest == address_hash("sms", "13800138000")
    # Not the unkeyed hash, which anyone can compute for every mobile number.
    assert digest != hashlib.sha256(b"complaintdesk-optout:sms:+8613800138000").hexdigest()
    settings.SECRET_KEY = "another-key-" + "y" * 40
    assert address_hash("sms", "13800138000") != digest


def test_an_opt_out_survives_a_key_rotation_while_the_old_key_is_a_fallback(settings, db):
    service.opt_out("sms", "13800138000", "all")
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "rotated-key-" + "z" * 40
    assert not service.is_opted_out("sms", "13800138000", "updates")
    settings.SECRET_KEY_FALLBACKS = [old]
    assert service.is_opted_out("sms", "13800138000", "updates")


def test_the_migration_rekeys_opt_outs_that_still_hold_the_address(db):
    import hashlib
    from importlib import import_module

    from django.apps import apps

    from notifications.addresses import address_hash

    def legacy(channel: str, normalised: str) -> str:
        return hashlib.sha256(f"complaintdesk-optout:{channel}:{normalised}".encode()).hexdigest()

    kept = OptOut.objects.create(
        channel="email", address="zhang.san@example.com", address_hash=legacy("email", "zhang.san@example.com")
    )
    erased = OptOut.objects.create(channel="sms", address="", address_hash=legacy("sms", "+8613800138000"))
    import_module("notifications.migrations.0003_keyed_optout_hashes").rekey(apps, None)
    kept.refresh_from_db()
    erased.refresh_from_db()
    assert kept.address_hash == address_hash("email", "zhang.san@example.com")
    assert erased.address_hash == legacy("sms", "+8613800138000")  # nothing to recompute it from
