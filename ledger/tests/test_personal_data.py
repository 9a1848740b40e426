"""Personal data is encrypted in the ledger, and erasing a person (crypto-shredding) keeps it verifying."""

import json

import pytest

from complaints.ledgering import PERSONAL_FIELDS, replay
from complaints.models import Complaint
from ledger.crypto import SHREDDED, shred
from ledger.models import LedgerEvent, SubjectKey
from ledger.verify import verify

from .helpers import events_of, seal_now

pytestmark = pytest.mark.django_db


def ledger_text(complaint: Complaint) -> str:
    rows = LedgerEvent.objects.filter(complaint=complaint).values_list("changes", "data")
    return json.dumps(list(rows), ensure_ascii=False)


def test_personal_data_is_not_in_plain_text_in_the_ledger(make_case):
    complaint = make_case(complainant_address="深圳市南山区科技园路 1 号", order_no="JD-99887766")
    text = ledger_text(complaint)
    secrets = [
        complaint.complainant_name,
        complaint.complainant_phone,
        "13800138000",
        complaint.complainant_email,
        complaint.complainant_address,
        complaint.order_no,
        complaint.description,
        complaint.proposal_text,
        "张三",  # also inside the internal note
        "确认漏电",  # the internal note itself
        "三日内答复",  # the public note of the acceptance
    ]
    for secret in secrets:
        assert secret and secret not in text, secret
    # ...yet the ledger holds them, readable with the person's key.
    state = replay(events_of(complaint))
    assert state["complainant_name"] == "张三"
    assert state["description"] == complaint.description
    assert state["product_name"] == "电热水壶"  # not personal: in clear


def test_erasing_a_person_keeps_the_ledger_verifying(make_case):
    complaint = make_case()
    other = make_case(complainant_name="李四", complainant_phone="139 0013 9000", complainant_email="li@example.com")
    seal_now()
    shred(SubjectKey.objects.get(pk=complaint.subject_key_id))
    Complaint.objects.filter(pk=complaint.pk).update(**dict.fromkeys(PERSONAL_FIELDS, ""))

    state = replay(events_of(complaint))
    assert state["complainant_name"] is SHREDDED and state["description"] is SHREDDED
    assert replay(events_of(other))["complainant_name"] == "李四"  # someone else's key is untouched
    report = verify()
    assert report.ok, report.problems


def test_after_erasure_the_rest_of_the_case_is_still_checked(make_case):
    complaint = make_case()
    shred(SubjectKey.objects.get(pk=complaint.subject_key_id))
    Complaint.objects.filter(pk=complaint.pk).update(complainant_name="", amount_claimed="1.00")
    report = verify()
    assert report.problems == [
        f"{complaint.tracking_no} event 1 field amount_claimed: case row has '1.00', ledger replay gives '500.00'"
    ]
