"""Input from outside never gives a 500: each of these once did."""

import pytest
from django.test import Client

from complaints.models import Complaint


def post(path, body, **headers):
    return Client().post("/api/v1" + path, body, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    "field,value",
    [
        ("occurred_at", "0001-01-01T00:00:00"),
        ("occurred_at", "9999-12-31T23:59:59"),
        ("purchase_date", "0001-01-01"),
        ("product_name", "水壶\x00"),
        ("order_no", "A\x1b[31m"),
        ("complainant_name", "张\x00三"),
    ],
)
def test_bad_values_get_422_naming_the_field(cast, body, field, value):
    response = post("/complaints", body(**{field: value}))
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field
    assert Complaint.objects.count() == 0


def test_bad_headers_and_paths(cast, body, api_as):
    assert post("/complaints", body(), **{"Idempotency-Key": "k\x00"}).status_code == 422
    assert Client().get("/api/v1/public/complaints/a%00b", headers={"X-Access-Code": "x"}).status_code == 404
    tracking_no = post("/complaints", body()).json()["tracking_no"]
    agent = api_as(cast.agent)
    assert agent.get("/complaints/a%00b").status_code == 404
    for etag in ('"²"', '"' + "9" * 5000 + '"', "abc"):
        response = agent.post(f"/complaints/{tracking_no}/escalate", {"reason": "升级处理"}, headers={"If-Match": etag})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "If-Match"
    assert agent.get("/complaints", received_from="0001-01-01T00:00:00").status_code == 422
    assert agent.get("/complaints", owner="a\x00b").status_code == 422
    response = agent.post(f"/complaints/{tracking_no}/notes", {"text": "备注\x00", "version": 1})
    assert response.status_code == 422


def test_a_body_that_is_not_json_gets_the_usual_422(cast):
    response = Client().post("/api/v1/complaints", "{not json", content_type="application/json")
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["code"] == "json_invalid"
