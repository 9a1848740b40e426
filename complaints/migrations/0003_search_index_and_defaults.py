from django.db import migrations

FTS_SQLITE = [
    "CREATE VIRTUAL TABLE complaints_fts USING fts5(search_text, content='complaints_complaint', content_rowid='id')",
    """CREATE TRIGGER complaints_fts_ai AFTER INSERT ON complaints_complaint BEGIN
         INSERT INTO complaints_fts(rowid, search_text) VALUES (new.id, new.search_text); END""",
    """CREATE TRIGGER complaints_fts_ad AFTER DELETE ON complaints_complaint BEGIN
         INSERT INTO complaints_fts(complaints_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END""",
    """CREATE TRIGGER complaints_fts_au AFTER UPDATE OF search_text ON complaints_complaint BEGIN
         INSERT INTO complaints_fts(complaints_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
         INSERT INTO complaints_fts(rowid, search_text) VALUES (new.id, new.search_text); END""",
]
FTS_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS complaints_fts_au",
    "DROP TRIGGER IF EXISTS complaints_fts_ad",
    "DROP TRIGGER IF EXISTS complaints_fts_ai",
    "DROP TABLE IF EXISTS complaints_fts",
]
FTS_POSTGRES = [
    "CREATE INDEX complaints_search_gin ON complaints_complaint USING GIN (to_tsvector('simple', search_text))"
]
FTS_POSTGRES_DROP = ["DROP INDEX IF EXISTS complaints_search_gin"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


CATEGORIES = [
    # code, 中文, English, sub-categories
    ("product_quality", "产品质量", "Product quality", [
        ("defect", "质量缺陷", "Defect"), ("safety_hazard", "安全隐患", "Safety hazard"),
        ("counterfeit", "假冒伪劣", "Counterfeit"), ("food_safety", "食品安全", "Food safety")]),
    ("service", "服务态度与质量", "Service attitude and quality", [
        ("attitude", "服务态度", "Attitude"), ("response_time", "响应时效", "Response time")]),
    ("price_charges", "价格收费", "Price and charges", [
        ("overcharge", "多收费", "Overcharge"), ("hidden_fee", "隐性收费", "Hidden fee")]),
    ("contract_terms", "合同条款", "Contract terms", [
        ("unfair_terms", "格式条款不公平", "Unfair standard terms"), ("cancellation", "解约/退订", "Cancellation")]),
    ("false_advertising", "虚假宣传/标识", "False advertising and labelling", [
        ("misleading_ad", "误导宣传", "Misleading advertising"), ("labelling", "标识不符", "Labelling")]),
    ("short_measure", "计量短缺", "Short measure", []),
    ("after_sales", "售后", "After-sales", [
        ("repair", "维修", "Repair"), ("return_refund", "退换货", "Return and refund"),
        ("warranty", "三包/保修", "Warranty")]),
    ("delivery", "物流配送", "Delivery and logistics", [
        ("late", "延迟送达", "Late delivery"), ("lost_damaged", "丢失/破损", "Lost or damaged")]),
    ("billing_error", "计费差错", "Billing error", []),
    ("privacy", "个人信息", "Privacy and personal data", [
        ("leak", "信息泄露", "Data leak"), ("marketing_calls", "骚扰营销", "Unwanted marketing")]),
    ("other", "其他", "Other", []),
]

SLA = [("P1", 2, 1), ("P2", 24, 3), ("P3", 24, 7), ("P4", 24, 15)]


def seed(apps, schema_editor):
    Category = apps.get_model("complaints", "Category")
    SlaPolicy = apps.get_model("complaints", "SlaPolicy")
    for order, (code, name, name_en, children) in enumerate(CATEGORIES):
        parent, _ = Category.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "order": order * 10}
        )
        for sub_order, (sub_code, sub_name, sub_en) in enumerate(children):
            Category.objects.get_or_create(
                code=f"{code}.{sub_code}".replace(".", "-"),
                defaults={"name": sub_name, "name_en": sub_en, "parent": parent, "order": sub_order},
            )
    for priority, ack_hours, days in SLA:
        SlaPolicy.objects.get_or_create(
            priority=priority, channel="", defaults={"ack_hours": ack_hours, "resolution_working_days": days}
        )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0002_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": FTS_SQLITE, "postgresql": FTS_POSTGRES}),
            _run({"sqlite": FTS_SQLITE_DROP, "postgresql": FTS_POSTGRES_DROP}),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
