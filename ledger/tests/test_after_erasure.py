"""After a person's key is destroyed, the product goes on working and the ledger still verifies."""

from django.test import Client

from complaints import actions
from complaints.ledgering import Actor
from complaints.models import Complaint
from customers.models import Customer
from ledger.crypto import shred
from ledger.verify import verify


def test_new_complaints_and_actions_after_a_key_is_destroyed(cast, body):
    def post():
        return Client().post("/api/v1/complaints", body(), content_type="application/json")

    first = Complaint.objects.get(tracking_no=post().json()["tracking_no"])
    old_key = first.subject_key_id
    shred(first.customer.subject_key)
    Complaint.objects.filter(pk=first.pk).update(
        complainant_name="", complainant_phone="", complainant_email="", description="(已删除)"
    )
    Customer.objects.filter(pk=first.customer_id).update(name="", phone="", email="")

    second = post()
    assert second.status_code == 201
    assert Customer.objects.count() == 2  # the erased profile is never matched again

    case = Complaint.objects.get(pk=first.pk)
    case = actions.add_note(case, actor=Actor.staff(cast.agent), text="投诉人要求删除个人信息后的跟进")
    assert case.subject_key_id != old_key
    report = verify()
    assert report.ok, report.problems
