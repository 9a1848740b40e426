"""Platform webhooks: signed JSON in each platform's own shape becomes a complaint, once."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from complaints.models import Complaint
from conftest import ensure_reference_data
from intake.admin import WebhookSourceForm
from intake.models import WebhookEvent, WebhookSource
from intake.webhooks import decrypt_secret, encrypt_secret, parse_path, signature
from ledger.models import LedgerEvent
from ledger.verify import verify

SECRET = "platform-shared-secret-0123456789abcdef"
URL = "/api/v1/intake/webhooks/"


def make_source(slug: str = "shop", **fields: Any) -> WebhookSource:
    values: dict[str, Any] = {
        "name": "某电商平台",
        "channel": "ecommerce_platform",
        "mapping": {
            "complainant_name": "$.buyer.nick",
            "complainant_phone": "$.buyer.phone",
            "complainant_email": "buyer.email",
            "order_no": "$.order.id",
            "product_sku": "$.order.items[0].sku",
            "product_name": "$.order.items[0].title",
            "amount_paid": "$.order.paid",
            "title": "$.subject",
            "description": "$.content",
            "category": "$['meta']['cat.code']",
        },
        "defaults": {"remedies_requested": ["refund"]},
        "event_id_path": "$.complaint_id",
        "secret_encrypted": encrypt_secret(slug, SECRET),
    }
    values.update(fields)
    return WebhookSource.objects.create(slug=slug, **values)


def event(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "complaint_id": "TM-889001",
        "subject": "退款迟迟不到账",
        "content": "我在 5 月 3 日申请退货退款，商家已签收退货，但十天过去退款仍未到账。",
        "buyer": {"nick": "赵六", "phone": 13800138000, "email": "Zhao.Liu@Example.com"},
        "order": {"id": 202605030001, "paid": 299.5, "items": [{"sku": "KT-1001", "title": "电热水壶"}]},
        "meta": {"cat.code": "after_sales"},
    }
    payload.update(overrides)
    return payload


def deliver(payload: Any, slug: str = "shop", secret: str = SECRET, client: Client | None = None, **headers: str):  # type: ignore[no-untyped-def]
    raw = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    headers.setdefault("X-Signature-256", signature(secret, raw))
    return (client or Client()).post(URL + slug, raw, content_type="application/json", headers=headers)


@pytest.fixture
def shop(org):  # type: ignore[no-untyped-def]
    return make_source()


def test_a_signed_delivery_becomes_a_complaint_mapped_from_the_platforms_shape(shop):
    response = deliver(event())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["replayed"] is False and "access_code" not in body
    complaint = Complaint.objects.get(tracking_no=body["tracking_no"])
    assert complaint.channel == "ecommerce_platform"
    assert complaint.complainant_name == "赵六"
    assert complaint.complainant_phone == "+8613800138000"  # a JSON number, normalised to E.164
    assert complaint.complainant_email == "zhao.liu@example.com"
    assert complaint.order_no == "202605030001"
    assert complaint.product_sku == "KT-1001" and complaint.product_name == "电热水壶"
    assert str(complaint.amount_paid) == "299.50"
    assert complaint.category.code == "after_sales"
    assert complaint.remedies_requested == ["refund"]  # from the source's fixed values
    assert (complaint.external_source, complaint.external_id) == ("webhook:shop", "TM-889001")
    assert WebhookEvent.objects.get(source=shop, event_id="TM-889001").complaint == complaint
    receive = LedgerEvent.objects.get(complaint=complaint, seq=1)
    assert (receive.actor, receive.actor_label) == ("system", "webhook:shop")
    assert verify().ok  # the source fields are in the first ledger event, so the replay matches


def test_a_replayed_event_id_creates_nothing_and_answers_with_the_original_number(shop):
    first = deliver(event()).json()["tracking_no"]
    again = deliver(event(content="同一投诉的再次推送，内容稍有不同，但编号相同。"))
    assert again.status_code == 200
    assert again.json() == {"tracking_no": first, "status": "new", "replayed": True}
    assert Complaint.objects.count() == 1 and WebhookEvent.objects.count() == 1


def test_a_missing_or_wrong_signature_is_refused_without_revealing_the_expected_one(shop):
    raw = json.dumps(event()).encode()
    missing = Client().post(URL + "shop", raw, content_type="application/json")
    assert missing.status_code == 401 and missing.json()["error"] == "signature_missing"
    wrong = deliver(event(), secret="another-secret-of-some-length-000")
    assert wrong.status_code == 401 and wrong.json()["error"] == "signature_invalid"
    expected = signature(SECRET, raw)
    assert expected.split("=")[1] not in wrong.content.decode()
    tampered = Client().post(
        URL + "shop", raw + b" ", content_type="application/json", headers={"X-Signature-256": expected}
    )
    assert tampered.status_code == 401
    assert Complaint.objects.count() == 0


def test_an_uppercase_hex_signature_is_accepted(shop):
    raw = json.dumps(event()).encode()
    header = "SHA256=" + signature(SECRET, raw).split("=")[1].upper()
    assert deliver(raw, **{"X-Signature-256": header}).status_code == 201


def test_an_unknown_or_inactive_source_is_not_found(shop):
    assert deliver(event(), slug="nosuch").status_code == 404
    WebhookSource.objects.filter(pk=shop.pk).update(active=False)
    response = deliver(event())
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_a_body_that_is_not_json_is_a_400(shop):
    response = deliver(b"<xml>not json</xml>")
    assert response.status_code == 400 and response.json()["error"] == "json_invalid"
    assert deliver(b"\xff\xfe\x00garbage").status_code == 400


def test_values_that_do_not_fit_are_a_422_naming_the_field_and_the_json_path(shop):
    payload = event(buyer={"nick": "赵六", "phone": "12345", "email": "not-an-address"})
    response = deliver(payload)
    assert response.status_code == 422
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert errors["complainant_phone"]["path"] == "$.buyer.phone"
    assert errors["complainant_phone"]["code"] == "phone_invalid" and errors["complainant_phone"]["message"]
    assert errors["complainant_email"]["path"] == "buyer.email"
    assert Complaint.objects.count() == 0 and WebhookEvent.objects.count() == 0


def test_a_required_field_the_payload_lacks_names_the_path_it_was_looked_for_at(shop):
    payload = event()
    del payload["content"]
    response = deliver(payload)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["path"], error["code"]) == ("description", "$.content", "missing")


def test_database_checks_name_the_path_too(shop):
    response = deliver(event(meta={"cat.code": "no_such_category"}))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["path"]) == ("category", "$['meta']['cat.code']")
    assert "no_such_category" in error["message"]


def test_a_payload_without_the_event_id_is_a_422(shop):
    payload = event()
    del payload["complaint_id"]
    response = deliver(payload)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "event_id"
    assert response.json()["errors"][0]["path"] == "$.complaint_id"
    assert deliver(event(complaint_id={"nested": 1})).status_code == 422
    assert deliver(event(complaint_id="x" * 101)).status_code == 422


def test_a_regulator_referral_needs_the_regulators_due_date(org):
    mapping = {"description": "$.内容", "complainant_phone": "$.电话", "regulator_due_at": "$.办结期限"}
    make_source("r12315", channel="regulator_referral", mapping=mapping, defaults={}, event_id_path="$.工单号")
    referral = {"工单号": "12315-2026-0001", "内容": "消费者反映商场出售过期食品，要求处理。", "电话": "13900139000"}
    response = deliver(referral, slug="r12315")
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        **response.json()["errors"][0],
        "field": "regulator_due_at",
        "path": "$.办结期限",
    }
    response = deliver({**referral, "办结期限": "2026-06-01T17:00:00+08:00"}, slug="r12315")
    assert response.status_code == 201, response.content
    complaint = Complaint.objects.get(tracking_no=response.json()["tracking_no"])
    assert complaint.channel == "regulator_referral" and complaint.regulator_due_at is not None


def test_the_complainant_gets_the_receipt_by_mail(shop, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tracking_no = deliver(event()).json()["tracking_no"]
    [message] = smtp_server.messages
    assert message["To"] == "zhao.liu@example.com" and tracking_no in message["Subject"]


def test_a_source_may_leave_the_receipt_to_the_platform(org, smtp_server, django_capture_on_commit_callbacks):
    make_source(notify_complainant=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(event()).status_code == 201
    assert smtp_server.messages == []


def test_the_secret_is_stored_encrypted_and_unusable_after_the_key_changes(shop, settings):
    assert SECRET not in shop.secret_encrypted
    assert decrypt_secret(shop) == SECRET
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-completely-different-secret-key-for-this-test"
    response = deliver(event())
    assert response.status_code == 503 and SECRET not in response.content.decode()
    settings.SECRET_KEY_FALLBACKS = [old_key]  # a rotation that keeps the old key opens it again
    assert deliver(event()).status_code == 201


def test_each_source_is_rate_limited(shop, settings):
    settings.COMPLAINTDESK_RATELIMIT = True
    WebhookSource.objects.filter(pk=shop.pk).update(rate_per_minute=2)
    codes = [deliver(event(complaint_id=f"E{i}")).status_code for i in range(3)]
    assert codes == [201, 201, 429]
    make_source("other", event_id_path="$.complaint_id")
    assert deliver(event(complaint_id="E9"), slug="other").status_code == 201  # another source's budget


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_event_at_once_make_one_complaint():
    ensure_reference_data()
    from accounts.models import Department

    Department.objects.create(code="service", name="客服中心", is_default=True)
    make_source()
    raw = json.dumps(event(), ensure_ascii=False).encode()
    barrier = threading.Barrier(2)

    def send(_: int) -> tuple[int, str]:
        try:
            barrier.wait(timeout=10)
            response = deliver(raw)
            return response.status_code, response.json().get("tracking_no", "")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(send, [1, 2]))
    assert [code for code, _ in results] == [200, 201], results
    assert results[0][1] == results[1][1]
    assert Complaint.objects.count() == 1 and WebhookEvent.objects.count() == 1


# --- the admin's configuration ----------------------------------------------------------------


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "slug": "wechat",
        "name": "微信公众号",
        "channel": "wechat",
        "active": "on",
        "mapping": json.dumps({"description": "$.Content", "complainant_name": "$.FromUserName"}),
        "defaults": json.dumps({"anonymous": False}),
        "event_id_path": "$.MsgId",
        "rate_per_minute": "60",
        "notify_complainant": "on",
        "secret": "s" * 32,
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({"descriptionx": "$.a", "description": "$.b"}, "descriptionx"),
        ({"description": "$.a[x]"}, "$.a[x]"),
        ({"description": "$..a"}, "$..a"),
        ({"complainant_name": "$.a"}, "description"),
        ({"description": "$.a", "channel": "$.c"}, "channel"),
        ([], ""),
    ],
)
def test_the_admin_refuses_a_mapping_with_unknown_fields_or_malformed_paths(db, mapping, expected):
    form = WebhookSourceForm(data=form_data(mapping=json.dumps(mapping)))
    assert not form.is_valid()
    assert expected in str(form.errors["mapping"])


def test_the_admin_requires_a_long_secret_and_a_valid_event_id_path(db):
    assert "secret" in WebhookSourceForm(data=form_data(secret="")).errors
    assert "secret" in WebhookSourceForm(data=form_data(secret="short")).errors
    assert "event_id_path" in WebhookSourceForm(data=form_data(event_id_path="$.a b")).errors
    assert "defaults" in WebhookSourceForm(data=form_data(defaults=json.dumps({"nope": 1}))).errors


def test_an_admin_configures_a_source_and_the_secret_is_kept_when_left_blank(cast):
    from accounts.models import User

    User.objects.filter(pk=cast.admin.pk).update(is_superuser=True)
    client = Client()
    client.force_login(cast.admin)
    response = client.post("/admin/intake/webhooksource/add/", form_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    source = WebhookSource.objects.get(slug="wechat")
    assert decrypt_secret(source) == "s" * 32 and "s" * 32 not in source.secret_encrypted
    page = client.get(f"/admin/intake/webhooksource/{source.pk}/change/")
    assert page.status_code == 200 and "s" * 32 not in page.content.decode()
    changed = client.post(f"/admin/intake/webhooksource/{source.pk}/change/", form_data(secret="", name="公众号"))
    assert changed.status_code == 302
    source.refresh_from_db()
    assert source.name == "公众号" and decrypt_secret(source) == "s" * 32


def test_json_paths():
    assert parse_path("$.buyer.phone") == ["buyer", "phone"]
    assert parse_path("buyer.phone") == ["buyer", "phone"]
    assert parse_path("items[0].sku") == ["items", 0, "sku"]
    assert parse_path("$['a.b'][\"c\"]") == ["a.b", "c"]
    assert parse_path("$.买家.电话") == ["买家", "电话"]
    for bad in ("$", "", "$.a[", "$.a[-1]", "$.a.*", "$..a", "a b"):
        with pytest.raises(ValueError):
            parse_path(bad)


def test_a_delivery_that_loses_the_race_after_the_replay_check_answers_as_a_replay(shop):
    from intake.webhooks import _register

    first = deliver(event()).json()["tracking_no"]
    # As if the other delivery committed between this one's replay check and its insert.
    response = _register(shop, "TM-889001", event(), "0" * 64)
    assert response.status_code == 200 and json.loads(response.content)["tracking_no"] == first
    assert Complaint.objects.count() == 1


def test_the_endpoint_is_documented_in_the_openapi_schema(db):
    schema = Client().get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/intake/webhooks/{source}"]["post"]
    assert "X-Signature-256" in operation["description"] and operation["requestBody"]["required"] is True


def test_a_monitor_without_contact_details_files_anonymously_through_its_defaults(org):
    make_source("weibo", channel="social_media", mapping={"description": "$.text"}, defaults={}, event_id_path="$.id")
    response = deliver({"id": 1, "text": "某品牌充电宝在地铁上冒烟起火，大家注意。"}, slug="weibo")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "__all__"
    WebhookSource.objects.filter(slug="weibo").update(defaults={"anonymous": True})
    response = deliver({"id": 1, "text": "某品牌充电宝在地铁上冒烟起火，大家注意。"}, slug="weibo")
    assert response.status_code == 201
    assert Complaint.objects.get().anonymous is True


def test_a_payload_never_sets_triage_fields(db):
    from intake.webhooks import check_source_config

    errors = check_source_config({"description": "$.text", "priority": "$.level"}, {"priority": "P2"}, "$.id")
    assert "priority" in errors["mapping"] and "defaults" not in errors
