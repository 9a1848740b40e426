import io
import json

from pypdf import PdfReader

from casework import actions as casework
from complaints.ledgering import Actor
from complaints.models import ComplaintMessage
from evidence.actions import add_evidence
from evidence.models import Evidence
from evidence.tests import samples
from privacy.models import PrivacyRequest

from .conftest import events, fresh


def _export(api, customer, fmt="json"):
    return api.post(f"/privacy/customers/{customer.pk}/export?format={fmt}")


def test_json_export_holds_every_stored_field_of_the_person(cast, person, api_as):
    customer, first, second = person
    add_evidence(
        first, content=samples.png(1), filename="水壶照片.png", kind="physical_item", actor=Actor.consumer(), via="web"
    )
    casework.add_contact(
        fresh(first),
        actor=Actor.staff(cast.agent),
        direction="outbound",
        party="consumer",
        channel="phone",
        occurred_at=fresh(first).received_at,
        summary="电话告知张三检测安排。",
    )
    ComplaintMessage.objects.create(complaint=second, author_kind="consumer", internal=False, body="补充：发票已找到。")
    ComplaintMessage.objects.create(complaint=second, author_kind="staff", internal=True, body="内部：疑似批次问题。")

    response = _export(api_as(cast.legal), customer)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    document = json.loads(response.content)

    customer.refresh_from_db()
    assert document["meta"]["customer_id"] == customer.pk
    assert document["customer"] == {
        "id": customer.pk,
        "customer_no": customer.customer_no,
        "name": "张三",
        "phone": "+8613800138000",
        "email": "zhang.san@example.com",
        "address": customer.address,
        "id_number": customer.id_number,
        "created_at": customer.created_at.isoformat(),
    }
    assert [c["tracking_no"] for c in document["complaints"]] == [first.tracking_no, second.tracking_no]
    for exported, stored in zip(document["complaints"], (fresh(first), fresh(second)), strict=True):
        assert exported["complainant_name"] == stored.complainant_name == "张三"
        assert exported["complainant_phone"] == stored.complainant_phone
        assert exported["complainant_email"] == stored.complainant_email
        assert exported["complainant_address"] == stored.complainant_address
        assert exported["description"] == stored.description
        assert exported["amount_claimed"] == str(stored.amount_claimed) == "500.00"
        assert exported["received_at"] == stored.received_at.isoformat()
        assert exported["status"] == stored.status
        assert exported["remedies_requested"] == stored.remedies_requested == ["refund", "compensation"]
        assert exported["product_name"] == "电热水壶"
        assert exported["category"] == "product_quality"
        assert exported["province_code"] == "440000"
    assert document["complaints"][1]["messages"] == [
        {
            "author": "consumer",
            "created_at": ComplaintMessage.objects.get(body__startswith="补充").created_at.isoformat(),
            "body": "补充：发票已找到。",
        }
    ]  # the internal note stays out
    item = Evidence.objects.get(complaint=first)
    assert document["evidence"] == [
        {
            "tracking_no": first.tracking_no,
            "filename": "水壶照片.png",
            "kind": "physical_item",
            "content_type": item.content_type,
            "sha256": item.sha256,
            "size": item.size,
            "uploaded_at": item.created_at.isoformat(),
            "file_deleted_at": None,
        }
    ]
    assert [(k["tracking_no"], k["summary"], k["channel"]) for k in document["contacts"]] == [
        (first.tracking_no, "电话告知张三检测安排。", "phone")
    ]
    assert isinstance(document["apps"], dict)


def test_an_export_is_an_event_on_each_case_and_a_logged_request(cast, person, api_as):
    customer, first, second = person
    versions = (fresh(first).version, fresh(second).version)
    response = _export(api_as(cast.manager), customer)
    assert response.status_code == 200
    request = PrivacyRequest.objects.get()
    assert (request.kind, request.status, request.actor, request.detail["format"]) == (
        "export",
        "done",
        cast.manager,
        "json",
    )
    for case in (first, second):
        (event,) = events(case, "export_personal")
        assert event.data == {"how": "export_json", "request": request.pk}
        assert "张三" not in json.dumps(event.data, ensure_ascii=False)
    assert (fresh(first).version, fresh(second).version) == versions  # a read moves no version


def test_pdf_export_renders_the_chinese_text(cast, person, api_as):
    customer, first, _second = person
    response = _export(api_as(cast.legal), customer, "pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "个人信息副本" in text
    assert "张三" in text and first.tracking_no in text and "电热水壶" in text
    (event,) = events(first, "export_personal")
    assert event.data["how"] == "export_pdf"


def test_an_unknown_format_is_refused_naming_the_field(cast, person, api_as):
    customer, first, _second = person
    response = _export(api_as(cast.legal), customer, "xml")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "format"
    assert not events(first, "export_personal") and not PrivacyRequest.objects.exists()


def test_the_export_page_button_downloads_the_file(cast, person):
    from .conftest import logged_in

    customer, _first, _second = person
    response = logged_in(cast.legal).post(f"/staff/privacy/customers/{customer.pk}/export/", {"format": "pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    bad = logged_in(cast.legal).post(f"/staff/privacy/customers/{customer.pk}/export/", {"format": "doc"})
    assert bad.status_code == 422 and "json、pdf" in bad.content.decode()


def test_a_very_long_description_still_makes_a_pdf(cast, body, api_as):
    from .conftest import new_case

    long_text = ("热水壶底座漏电，多次维修无果。" * 60 + "\n") * 12  # ~10,000 characters, many lines
    case = new_case(body, description=long_text[:9900])
    response = api_as(cast.legal).post(f"/privacy/customers/{case.customer_id}/export?format=pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) > 2
    assert "多次维修无果" in "".join(page.extract_text() for page in reader.pages)
