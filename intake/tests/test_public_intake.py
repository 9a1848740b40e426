"""Public intake: bad input, idempotency, rate limits, escaping, concurrency."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from complaints.models import Complaint
from customers.models import Customer
from intake import idempotency
from intake.models import IdempotencyRecord
from ledger.models import LedgerEvent


def post(body, headers=None, language="zh-hans"):
    return Client(HTTP_ACCEPT_LANGUAGE=language).post(
        "/api/v1/complaints", body, content_type="application/json", headers=headers or {}
    )


def fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_receipt_has_tracking_number_code_state_and_ack_due(cast, body):
    response = post(body())
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "new" and len(data["access_code"]) == 12
    complaint = Complaint.objects.get(tracking_no=data["tracking_no"])
    assert complaint.access_code_hash != data["access_code"] and data["access_code"] not in complaint.access_code_hash
    assert complaint.complainant_phone == "+8613800138000" and complaint.complainant_email == "zhang.san@example.com"


def test_bad_input_names_each_field(cast, body):
    bad = body(
        complainant_email="not-an-email",
        complainant_phone="12345",
        description="长" * 10_001,
        occurred_at="2099-01-01T00:00:00+08:00",
        amount_claimed="-5",
        category="no_such_category",
        unknown_field=1,
        purchase_date="yesterday",
    )
    errors = fields(post(bad))
    assert set(errors) >= {
        "complainant_email",
        "complainant_phone",
        "description",
        "occurred_at",
        "amount_claimed",
        "unknown_field",
        "purchase_date",
    }
    assert errors["complainant_phone"] == "电话号码无效。"
    english = fields(post(bad, language="en"))
    assert "phone" in english["complainant_phone"].lower()
    assert Complaint.objects.count() == 0


def test_values_outside_the_taxonomy_and_regions(cast, body):
    errors = fields(post(body(category="no_such_category")))
    assert "category" in errors
    errors = fields(post(body(province_code="110000", city_code="440300", district_code="440305")))
    assert "city_code" in errors
    errors = fields(post(body(district_code="999999")))
    assert "district_code" in errors
    errors = fields(post(body(channel="phone", priority="P1")))
    assert set(errors) == {"channel", "priority"}  # staff-only fields


def test_anonymous_needs_no_contact_but_named_complaints_do(cast, body):
    errors = fields(post(body(complainant_phone="", complainant_email="")))
    assert "__all__" in errors
    response = post(body(anonymous=True, complainant_name="", complainant_phone="", complainant_email=""))
    assert response.status_code == 201
    assert Complaint.objects.get().customer is None


def test_customer_is_matched_by_normalised_phone_or_email(cast, body):
    post(body(complainant_phone="13800138000", complainant_email=""))
    post(body(complainant_phone="+86 138-0013-8000", complainant_email="ZHANG.SAN@example.com"))
    post(body(complainant_phone="", complainant_email="zhang.san@EXAMPLE.com"))
    assert Customer.objects.count() == 1
    assert Complaint.objects.filter(customer__isnull=False).count() == 3


def test_html_is_stored_as_text_and_escaped_on_output(cast, api_as, body):
    script = "<script>alert('x')</script> 商品有问题"
    data = post(body(description=script)).json()
    complaint = Complaint.objects.get(tracking_no=data["tracking_no"])
    assert complaint.description == script
    detail = api_as(cast.agent).get(f"/complaints/{complaint.tracking_no}")
    assert detail.json()["description"] == script
    assert detail["Content-Type"].startswith("application/json")


def test_idempotency_key_replays_and_refuses_a_different_body(cast, body):
    first = post(body(), headers={"Idempotency-Key": "abc-123"})
    again = post(body(), headers={"Idempotency-Key": "abc-123"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Complaint.objects.count() == 1
    other = post(body(description="另一个不同的投诉内容描述"), headers={"Idempotency-Key": "abc-123"})
    assert "Idempotency-Key" in fields(other)
    assert Complaint.objects.count() == 1


def test_idempotency_key_is_released_when_the_request_was_invalid(cast, body):
    assert post(body(complainant_email="bad"), headers={"Idempotency-Key": "k1"}).status_code == 422
    assert post(body(), headers={"Idempotency-Key": "k1"}).status_code == 201


def test_rate_limit_per_client_address(cast, body, settings):
    settings.COMPLAINTDESK_RATELIMIT = True
    settings.COMPLAINTDESK_INTAKE_RATE_PER_MINUTE = 3
    codes = [post(body()).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    other = Client(REMOTE_ADDR="10.1.2.3").post("/api/v1/complaints", body(), content_type="application/json")
    assert other.status_code == 201


def test_forwarded_for_is_believed_only_from_trusted_proxies(cast, body, settings):
    settings.COMPLAINTDESK_RATELIMIT = True
    settings.COMPLAINTDESK_INTAKE_RATE_PER_MINUTE = 1

    def via(forwarded, remote="127.0.0.1"):
        return (
            Client(REMOTE_ADDR=remote)
            .post("/api/v1/complaints", body(), content_type="application/json", HTTP_X_FORWARDED_FOR=forwarded)
            .status_code
        )

    assert via("1.1.1.1") == 201
    assert via("2.2.2.2") == 429  # untrusted proxy: the header is ignored, same client
    settings.COMPLAINTDESK_TRUSTED_PROXIES = ["127.0.0.1"]
    assert via("3.3.3.3") == 201
    assert via("4.4.4.4") == 201


def test_an_error_half_way_writes_nothing(cast, body, monkeypatch):
    from complaints import ledgering

    def broken(*args, **kwargs):
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr("complaints.actions.record", broken)
    with pytest.raises(RuntimeError):
        post(body())
    assert Complaint.objects.count() == 0 and LedgerEvent.objects.count() == 0 and Customer.objects.count() == 0
    assert ledgering.record is not broken


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_intakes_get_fifty_distinct_tracking_numbers(org, body):
    barrier = threading.Barrier(10)

    def file(i):
        try:
            if i < 10:
                barrier.wait(timeout=10)
            response = post(body(complainant_phone=f"1380013{i:04d}"))
            assert response.status_code == 201, response.content
            return response.json()["tracking_no"]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        numbers = list(pool.map(file, range(50)))
    assert len(set(numbers)) == 50
    assert Complaint.objects.count() == 50
    sequences = sorted(int(n.split("-")[1]) for n in numbers)
    assert sequences == list(range(1, 51))


def test_control_characters_are_refused_but_line_breaks_kept(cast, body):
    errors = fields(post(body(description="商品有问题\x00\x1b[31m")))
    assert "description" in errors
    assert post(body(description="第一行\n第二行\t缩进")).status_code == 201


def test_a_replay_sealed_under_an_old_secret_key_is_refused_cleanly(cast, body, settings):
    assert post(body(), headers={"Idempotency-Key": "rotate-1"}).status_code == 201
    settings.SECRET_KEY = "another-secret-key-after-rotation-0123456789"
    replay = post(body(), headers={"Idempotency-Key": "rotate-1"})
    assert replay.status_code == 409 and replay.json()["error"] == "idempotency_expired"
    assert Complaint.objects.count() == 1


def test_a_claim_left_pending_by_a_dead_request_is_taken_over(cast, body):
    payload = body()
    raw = json.dumps(payload).encode()  # as the test client sends it
    IdempotencyRecord.objects.create(key="dead-1", body_hash=idempotency.body_hash(raw), status_code=0, response="")
    assert post(payload, headers={"Idempotency-Key": "dead-1"}).status_code == 409  # still in progress
    IdempotencyRecord.objects.filter(key="dead-1").update(created_at=timezone.now() - timedelta(minutes=3))
    assert post(payload, headers={"Idempotency-Key": "dead-1"}).status_code == 201
    assert Complaint.objects.count() == 1


def test_the_receipt_is_stored_with_the_case_or_not_at_all(cast, body, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr("complaints.actions.record", broken)
    with pytest.raises(RuntimeError):
        post(body(), headers={"Idempotency-Key": "atomic-1"})
    assert not IdempotencyRecord.objects.filter(key="atomic-1").exists()
    assert Complaint.objects.count() == 0


def test_ipv6_clients_are_limited_per_64(cast, body, settings):
    settings.COMPLAINTDESK_RATELIMIT = True
    settings.COMPLAINTDESK_INTAKE_RATE_PER_MINUTE = 2

    def from_address(address):
        return Client(REMOTE_ADDR=address).post("/api/v1/complaints", body(), content_type="application/json")

    codes = [from_address(f"2001:db8:1:2::{i}").status_code for i in range(1, 4)]
    assert codes == [201, 201, 429]
    assert from_address("2001:db8:1:3::1").status_code == 201
