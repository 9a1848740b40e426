"""Every view or export of personal data is an event (DESIGN.md §6; privacy.audit): the case page and
the case API, the customer profile (page and API), the privacy page and exports, the reports export
(page and API). Each records exactly one event on each case whose personal data was shown, naming how;
a masked view (an analyst's) shows none and records none."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Max
from django.test import Client
from django.utils import timezone

from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from conftest import Api
from ledger.models import LedgerEvent
from ledger.verify import verify

pytestmark = pytest.mark.django_db


def new_case(body: Callable[..., dict[str, Any]], **overrides: Any) -> Complaint:
    data = check_intake(IntakeData(**body(**overrides)), staff=False)
    return actions.submit(data, actor=Actor.consumer())[0]


def page(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def recorded(read: Callable[[], Any]) -> list[tuple[int, str, str]]:
    """Do the read (it must succeed); the events it appended: (case id, action, how)."""
    before = LedgerEvent.objects.aggregate(top=Max("id"))["top"] or 0
    response = read()
    assert response.status_code == 200, response.content[:300]
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # exports record chunk by chunk as they stream
    rows = LedgerEvent.objects.filter(id__gt=before).order_by("id").values_list("complaint_id", "action", "data")
    return [(case, action, data.get("how")) for case, action, data in rows]


@pytest.fixture
def person(cast, body, org):  # type: ignore[no-untyped-def]
    """Two cases of one person (the same phone), in the supervisor's department and the manager's region."""
    first = new_case(body, org_unit=org.store_sz.pk)
    second = new_case(body, org_unit=org.store_sz.pk, description="第二次投诉：热水壶又坏了。")
    assert first.customer_id == second.customer_id is not None
    return first.customer_id, first, second


def test_the_case_page_and_the_case_api_record_one_view_each(cast, person):
    _customer, case, _other = person
    assert recorded(lambda: page(cast.agent).get(f"/staff/cases/{case.tracking_no}/")) == [
        (case.pk, "view_personal", "case_page")
    ]
    assert recorded(lambda: Api(cast.agent).get(f"/complaints/{case.tracking_no}")) == [
        (case.pk, "view_personal", "case_api")
    ]
    # An analyst sees the case masked: no personal data shown, nothing recorded.
    assert recorded(lambda: page(cast.analyst).get(f"/staff/cases/{case.tracking_no}/")) == []
    assert recorded(lambda: Api(cast.analyst).get(f"/complaints/{case.tracking_no}")) == []


@pytest.mark.parametrize(
    "part",
    [
        "timeline",
        "contacts",
        "replies",
        "remedies",
        "offers",
        "findings",
        "coordination-tasks",
        "evidence",
        "proceedings",
    ],
)
def test_each_api_read_of_a_part_of_a_case_records_one_view_naming_the_part(cast, person, part):
    """Issue 9: the case's sub-resources show personal data too (the timeline's snapshots, contact
    summaries, replies and offers addressed to the person, evidence names…): one event each, naming
    the part; none for an analyst, who sees them masked."""
    _customer, case, _other = person
    before = LedgerEvent.objects.aggregate(top=Max("id"))["top"] or 0
    assert recorded(lambda: Api(cast.supervisor).get(f"/complaints/{case.tracking_no}/{part}")) == [
        (case.pk, "view_personal", "case_api")
    ]
    event = LedgerEvent.objects.filter(id__gt=before).get()
    assert event.data["part"] == part.replace("-", "_")
    assert recorded(lambda: Api(cast.analyst).get(f"/complaints/{case.tracking_no}/{part}")) == []


def test_the_customer_profile_records_one_view_per_case_of_the_person(cast, person):
    customer, first, second = person
    expected = [(first.pk, "view_personal", "profile"), (second.pk, "view_personal", "profile")]
    assert recorded(lambda: page(cast.supervisor).get(f"/staff/customers/{customer}/")) == expected
    assert recorded(lambda: Api(cast.supervisor).get(f"/customers/{customer}")) == expected


def test_the_privacy_page_and_its_exports_record_one_event_per_case(cast, person):
    customer, first, second = person
    assert recorded(lambda: page(cast.legal).get(f"/staff/privacy/customers/{customer}/")) == [
        (first.pk, "view_personal", "profile"),
        (second.pk, "view_personal", "profile"),
    ]
    assert recorded(
        lambda: Api(cast.legal).client.post(
            f"/api/v1/privacy/customers/{customer}/export?format=json", headers=Api(cast.legal).headers
        )
    ) == [(first.pk, "export_personal", "export_json"), (second.pk, "export_personal", "export_json")]
    assert recorded(
        lambda: page(cast.legal).post(f"/staff/privacy/customers/{customer}/export/", {"format": "pdf"})
    ) == [
        (first.pk, "export_personal", "export_pdf"),
        (second.pk, "export_personal", "export_pdf"),
    ]


def test_the_reports_export_records_one_event_per_exported_case_with_personal_data(cast, person):
    _customer, first, second = person
    today = timezone.localdate()
    window = {"received_from": (today - timedelta(days=1)).isoformat(), "received_to": today.isoformat()}
    expected = [(first.pk, "export_personal", "export_file"), (second.pk, "export_personal", "export_file")]
    assert (
        recorded(lambda: Api(cast.supervisor).post("/reports/exports", {**window, "include_personal": True}))
        == expected
    )
    form = {**window, "format": "xlsx", "include_personal": "on"}
    assert recorded(lambda: page(cast.supervisor).post("/staff/reports/export/", form)) == expected
    # Without the personal columns (masked), nothing personal leaves: nothing is recorded.
    assert recorded(lambda: Api(cast.supervisor).post("/reports/exports", window)) == []
    assert recorded(lambda: Api(cast.analyst).post("/reports/exports", window)) == []
    # Reads are in the chains but move no version: every case still verifies.
    assert verify().ok
