from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints import actions, search
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor


def file(body, text):
    return actions.submit(check_intake(IntakeData(**body(description=text)), staff=False), actor=Actor.consumer())[0]


def test_two_character_chinese_query_uses_the_index(cast, api_as, body):
    refund = file(body, "申请退款三次都没有处理，客服态度很差。")
    file(body, "快递延迟送达，包装破损。")
    english = file(body, "The refund for my broken kettle never arrived.")
    agent = api_as(cast.agent)
    with CaptureQueriesContext(connection) as queries:
        found = agent.get("/complaints", q="退款").json()["items"]
    assert [c["tracking_no"] for c in found] == [refund.tracking_no]
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert ("complaints_fts MATCH" in sql) or ("to_tsquery" in sql)
    assert [c["tracking_no"] for c in agent.get("/complaints", q="refund").json()["items"]] == [english.tracking_no]
    assert [c["tracking_no"] for c in agent.get("/complaints", q="态度很差").json()["items"]] == [refund.tracking_no]
    assert agent.get("/complaints", q="退货").json()["items"] == []


def test_one_character_query_falls_back_to_a_scan(cast, api_as, body):
    parcel = file(body, "快递延迟送达，包装破损。")
    found = api_as(cast.agent).get("/complaints", q="递").json()["items"]
    assert [c["tracking_no"] for c in found] == [parcel.tracking_no]


def test_index_text_holds_bigrams_words_and_latin_words():
    tokens = set(search.index_text("电热水壶漏电 Refund KT-1001").split())
    assert {"电热", "热水", "水壶", "漏电", "refund", "kt", "1001"} <= tokens
    assert search.query_tokens("退")[1] is False


def test_list_filters_and_cursor_pagination(cast, api_as, body):
    cases = [file(body, f"第{i}次投诉：产品质量问题") for i in range(5)]
    agent = api_as(cast.agent)
    page = agent.get("/complaints", limit=2).json()
    assert [c["tracking_no"] for c in page["items"]] == [cases[4].tracking_no, cases[3].tracking_no]
    page2 = agent.get("/complaints", limit=2, cursor=page["next_cursor"]).json()
    assert [c["tracking_no"] for c in page2["items"]] == [cases[2].tracking_no, cases[1].tracking_no]
    assert agent.get("/complaints", state="accepted").json()["items"] == []
    assert len(agent.get("/complaints", state="new", priority="P3", sla="on_track").json()["items"]) == 5
    bad = agent.get("/complaints", state="nonsense")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "state.0"
    assert agent.get("/complaints", cursor="!!!").status_code == 422


def test_list_query_count_does_not_grow_with_the_page(cast, api_as, body):
    for i in range(3):
        file(body, f"第{i}次投诉：产品质量问题")
    agent = api_as(cast.agent)
    agent.get("/complaints")
    with CaptureQueriesContext(connection) as small:
        agent.get("/complaints", limit=1)
    for i in range(10):
        file(body, f"又一次投诉{i}")
    with CaptureQueriesContext(connection) as large:
        agent.get("/complaints", limit=13)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_sqlite_search_triggers_survive_the_migrations(db):
    # SQLite drops a table's triggers when a migration rebuilds it; each such migration re-creates them.
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'complaints_complaint'")
        names = {row[0] for row in cursor.fetchall()}
    assert names == {"complaints_fts_ai", "complaints_fts_ad", "complaints_fts_au"}
