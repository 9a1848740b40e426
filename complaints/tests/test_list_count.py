"""The case list's bounded count and pager, and the search plans behind it (issue 8: scale targets).

The list counts at most COMPLAINTDESK_LIST_COUNT_CAP + 1 cases: the exact number under the cap,
"more than <cap>" beyond it. On PostgreSQL a search word with few matches lists those cases by
primary key, one with many keeps the match as a condition; both must find the same cases."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints import search, selectors, views
from complaints.choices import OPEN_STATES
from complaints.models import Complaint
from complaints.tests.test_workbench import logged_in, new_case


def count_text(html: str) -> str:
    return re.search(r'<span id="list-count">(.*?)</span>', html, re.S).group(1).strip()


def listed(html: str) -> set[str]:
    return set(re.findall(r"/staff/cases/(TS[0-9-]+)", html))


def test_the_queue_counts_exactly_under_the_cap(cast, body, settings):
    settings.COMPLAINTDESK_LIST_COUNT_CAP = 5
    for _ in range(3):
        new_case(body)
    html = logged_in(cast.auditor).get("/staff/", {"scope": "all"}).content.decode()
    assert count_text(html) == "第 1 / 1 页，共 3 件"
    assert len(listed(html)) == 3


def test_beyond_the_cap_the_queue_says_more_than_and_still_pages_on(cast, body, settings, monkeypatch):
    settings.COMPLAINTDESK_LIST_COUNT_CAP = 3
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    cases = [new_case(body) for _ in range(5)]
    client = logged_in(cast.auditor)
    seen: set[str] = set()
    first = client.get("/staff/", {"scope": "all", "order": "new"}).content.decode()
    assert count_text(first) == "第 1 页，超过 3 件"
    assert "page=2" in first and "上一页" not in first
    seen |= listed(first)
    second = client.get("/staff/", {"scope": "all", "order": "new", "page": "2"}).content.decode()
    assert count_text(second) == "第 2 页，超过 3 件"
    seen |= listed(second)
    # The last page ends the list: its count is exact again, with no extra query.
    third = client.get("/staff/", {"scope": "all", "order": "new", "page": "3"}).content.decode()
    assert count_text(third) == "第 3 / 3 页，共 5 件"
    assert "page=4" not in third
    seen |= listed(third)
    assert seen == {c.tracking_no for c in cases}


def test_a_page_past_the_end_shows_the_last_known_page(cast, body, settings, monkeypatch):
    settings.COMPLAINTDESK_LIST_COUNT_CAP = 10
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for _ in range(3):
        new_case(body)
    client = logged_in(cast.auditor)
    html = client.get("/staff/", {"scope": "all", "page": "99"}).content.decode()
    assert count_text(html) == "第 2 / 2 页，共 3 件" and len(listed(html)) == 1
    assert count_text(client.get("/staff/", {"scope": "all", "page": "abc"}).content.decode()).startswith("第 1 / 2")


def test_the_count_reads_no_more_than_cap_plus_one_rows(cast, body, settings, monkeypatch):
    settings.COMPLAINTDESK_LIST_COUNT_CAP = 3
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for _ in range(5):
        new_case(body)
    with CaptureQueriesContext(connection) as queries:
        logged_in(cast.auditor).get("/staff/", {"scope": "all"})
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and re.search(r"LIMIT 4\b", counts[0]), counts


def test_a_short_list_is_counted_without_a_count_query(cast, body):
    for _ in range(2):
        new_case(body)
    page = selectors.page_of(Complaint.objects.order_by("-pk"), "1", per_page=50, cap=10)
    assert (page.count, page.capped, page.num_pages, page.has_next) == (2, False, 1, False)
    with CaptureQueriesContext(connection) as queries:
        selectors.page_of(Complaint.objects.order_by("-pk"), "1", per_page=50, cap=10)
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1, reads
    if connection.vendor == "postgresql":  # the page is read without parallel workers (issue 8)
        assert any("max_parallel_workers_per_gather = 0" in q["sql"] for q in queries.captured_queries)


def test_the_pager_keeps_the_drill_down_filters(cast, body, settings, monkeypatch):
    settings.COMPLAINTDESK_LIST_COUNT_CAP = 100
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    for _ in range(2):
        new_case(body, channel="web")
    html = logged_in(cast.auditor).get("/staff/", {"scope": "all", "channel": "web"}).content.decode()
    assert "channel=web&amp;page=2" in html


def test_a_category_code_matches_the_category_or_the_sub_category(cast, body):
    defect = new_case(body, category="product_quality", subcategory="product_quality-defect")
    plain = new_case(body, category="product_quality")
    other = new_case(body, category="delivery")
    client = logged_in(cast.auditor)

    def found(code: str) -> set[str]:
        return listed(client.get("/staff/", {"scope": "all", "state": "all", "category": code}).content.decode())

    assert found("product_quality") == {defect.tracking_no, plain.tracking_no}
    assert found("product_quality-defect") == {defect.tracking_no}
    assert found("delivery") == {other.tracking_no}
    assert found("no-such-code") == set()


def test_the_api_filters_by_codes_as_before(cast, api_as, body):
    quality = new_case(body, category="product_quality")
    new_case(body, category="delivery")
    agent = api_as(cast.supervisor)
    items = agent.get("/complaints", category="product_quality").json()["items"]
    assert [c["tracking_no"] for c in items] == [quality.tracking_no]
    assert agent.get("/complaints", category="nonexistent").json()["items"] == []
    assert agent.get("/complaints", owner="nobody-by-that-name").json()["items"] == []
    assert len(agent.get("/complaints", department="service").json()["items"]) == len(
        agent.get("/complaints").json()["items"]
    )


@pytest.mark.parametrize("small_matches", [1, 1000])
def test_search_finds_the_same_cases_for_common_and_rare_words(cast, api_as, body, settings, small_matches):
    """With SMALL_MATCHES 1 every word here is 'common' (the match stays a condition on PostgreSQL);
    with 1000 every word is 'rare' (its matches listed by primary key). Same cases either way."""
    settings.COMPLAINTDESK_SEARCH_SMALL_MATCHES = small_matches
    settings.COMPLAINTDESK_LIST_COUNT_CAP = 100
    refunds = [new_case(body, description=f"申请退款第{i}次，客服没有回复。") for i in range(3)]
    noise = new_case(body, description="洗衣机噪音很大，要求换货。")
    new_case(body, description="快递延迟送达，包装破损。")
    client = logged_in(cast.auditor)
    agent = api_as(cast.auditor)

    def page(q: str) -> set[str]:
        return listed(client.get("/staff/", {"scope": "all", "state": "all", "q": q}).content.decode())

    def api(q: str) -> set[str]:
        return {c["tracking_no"] for c in agent.get("/complaints", q=q).json()["items"]}

    for q, expected in (
        ("退款", {c.tracking_no for c in refunds}),  # common
        ("噪音", {noise.tracking_no}),  # rare
        ("没有回复", {c.tracking_no for c in refunds}),  # bigrams and the phrase
        ("退货", set()),  # no match
    ):
        assert page(q) == expected, q
        assert api(q) == expected, q
        assert set(search.filter_text(Complaint.objects.all(), q).values_list("tracking_no", flat=True)) == expected
    html = client.get("/staff/", {"scope": "all", "state": "all", "q": "退款"}).content.decode()
    assert count_text(html) == "第 1 / 1 页，共 3 件"


def test_postgresql_lists_a_rare_word_s_matches_by_key_and_keeps_a_common_word_as_a_condition(body, settings):
    if connection.vendor != "postgresql":
        pytest.skip("the plan choice is PostgreSQL's; SQLite always matches through FTS5")
    settings.COMPLAINTDESK_SEARCH_SMALL_MATCHES = 2
    common = [new_case(body, description=f"申请退款第{i}次。") for i in range(3)]
    rare = new_case(body, description="洗衣机噪音很大。")
    with CaptureQueriesContext(connection) as queries:
        found = list(search.filter_text(Complaint.objects.all(), "噪音").values_list("pk", flat=True))
    assert found == [rare.pk]
    assert "to_tsquery" not in queries.captured_queries[-1]["sql"]  # the ids, by primary key
    with CaptureQueriesContext(connection) as queries:
        found = list(search.filter_text(Complaint.objects.all(), "退款").values_list("pk", flat=True))
    assert sorted(found) == sorted(c.pk for c in common)
    assert "to_tsquery" in queries.captured_queries[-1]["sql"]


def test_the_open_cases_index_covers_exactly_the_open_states():
    index = next(i for i in Complaint._meta.indexes if i.name == "complaint_open_by_due")
    (lookup, values) = index.condition.children[0]
    assert lookup == "status__in" and set(values) == {str(s) for s in OPEN_STATES}


def test_the_api_list_keeps_its_contract(cast, api_as, body):
    """The API list pages by cursor and never counted: its parameters and its answer stay as they were."""
    from django.test import Client

    for _ in range(3):
        new_case(body)
    spec = Client().get("/api/v1/openapi.json").json()
    parameters = [p["name"] for p in spec["paths"]["/api/v1/complaints"]["get"]["parameters"]]
    assert parameters == [
        "state", "priority", "category", "department", "owner", "channel", "sla", "received_from", "received_to",
        "q", "cursor", "limit",
    ]  # fmt: skip
    agent = api_as(cast.auditor)
    first = agent.get("/complaints", limit=2).json()
    assert set(first) == {"items", "next_cursor"} and len(first["items"]) == 2 and first["next_cursor"]
    rest = agent.get("/complaints", limit=2, cursor=first["next_cursor"]).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None


def test_a_search_list_counts_to_the_search_cap(cast, body, settings, monkeypatch):
    settings.COMPLAINTDESK_LIST_COUNT_CAP = 10
    settings.COMPLAINTDESK_SEARCH_COUNT_CAP = 2
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for i in range(4):
        new_case(body, description=f"申请退款第{i}次，客服没有回复。")
    client = logged_in(cast.auditor)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/staff/", {"scope": "all", "q": "退款"}).content.decode()
    assert count_text(html) == "第 1 页，超过 2 件"
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and re.search(r"LIMIT 3\b", counts[0]), counts
    # Without search words the list's own cap holds.
    assert count_text(client.get("/staff/", {"scope": "all"}).content.decode()) == "第 1 / 2 页，共 4 件"
    # The search cap never exceeds the list's cap.
    settings.COMPLAINTDESK_SEARCH_COUNT_CAP = 50
    assert selectors.search_count_cap() == 10
