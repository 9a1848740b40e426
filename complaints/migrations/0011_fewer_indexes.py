"""Fewer indexes on complaints_complaint: every insert and update pays for each one (docs/import.md).

- Dropped, because a composite index leads with the same column: `status` (the (status, …) indexes),
  `priority` (complaint_list_filters_due), `department_id` and `owner_id` ((department, status),
  (owner, status)).
- The varchar_pattern_ops copies that `db_index=True` adds on PostgreSQL for LIKE are dropped where
  nothing searches with LIKE: the phone and e-mail look-up hashes, the SKU, the province code, status
  and priority. The plain btrees of the first four stay, renamed to the Meta names.

Only the database's indexes change; the state operations are what makemigrations wrote. The indexes
are found by their columns (their generated names differ between databases), so nothing is rebuilt:
dropping and renaming are quick even over millions of cases. Not reversible in the database (the
reverse leaves the indexes dropped)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import core.fieldcrypt

REDUNDANT = {("status",), ("priority",), ("department_id",), ("owner_id",)}
KEPT = {
    ("complainant_phone_hash",): "complaint_phone_hash",
    ("complainant_email_hash",): "complaint_email_hash",
    ("product_sku",): "complaint_product_sku",
    ("province_code",): "complaint_province_code",
}
TABLE = "complaints_complaint"


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    connection, qn = schema_editor.connection, schema_editor.quote_name
    if connection.vendor == "postgresql":  # fail, rather than queue every reader, behind a long query
        schema_editor.execute("SET LOCAL lock_timeout = '10s'")
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, TABLE)
    present = set(indexes)
    for name, info in indexes.items():
        if not info.get("index") or info.get("unique") or info.get("primary_key"):
            continue
        columns = tuple(info["columns"] or ())
        if columns in REDUNDANT or (columns in KEPT and name.endswith("_like")):
            schema_editor.execute(f"DROP INDEX {qn(name)}")
        elif columns in KEPT and name != KEPT[columns] and KEPT[columns] in present:
            schema_editor.execute(f"DROP INDEX {qn(name)}")  # the kept one exists already: a duplicate
        elif columns in KEPT and name != KEPT[columns]:
            if connection.vendor == "postgresql":
                schema_editor.execute(f"ALTER INDEX {qn(name)} RENAME TO {qn(KEPT[columns])}")
            else:
                schema_editor.execute(f"DROP INDEX {qn(name)}")
                schema_editor.execute(f"CREATE INDEX {qn(KEPT[columns])} ON {qn(TABLE)} ({qn(columns[0])})")
            present.add(KEPT[columns])
    for columns, name in KEPT.items():  # a database that never had them
        if name not in present:
            schema_editor.execute(f"CREATE INDEX {qn(name)} ON {qn(TABLE)} ({qn(columns[0])})")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_security_event_data_keys"),
        ("complaints", "0010_list_indexes"),
        ("customers", "0004_encrypt_personal_data"),
        ("ledger", "0004_dailydigest_side_chains"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="complaint",
                    name="complainant_email_hash",
                    field=core.fieldcrypt.LookupHashField(
                        blank=True,
                        db_default="",
                        default="",
                        editable=False,
                        kind="email",
                        max_length=32,
                        source="complainant_email",
                    ),
                ),
                migrations.AlterField(
                    model_name="complaint",
                    name="complainant_phone_hash",
                    field=core.fieldcrypt.LookupHashField(
                        blank=True,
                        db_default="",
                        default="",
                        editable=False,
                        kind="phone",
                        max_length=32,
                        source="complainant_phone",
                    ),
                ),
                migrations.AlterField(
                    model_name="complaint",
                    name="department",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="accounts.department",
                    ),
                ),
                migrations.AlterField(
                    model_name="complaint",
                    name="owner",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="owned_complaints",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="第一责任人",
                    ),
                ),
                migrations.AlterField(
                    model_name="complaint",
                    name="priority",
                    field=models.CharField(
                        choices=[("P1", "P1 紧急"), ("P2", "P2 高"), ("P3", "P3 中"), ("P4", "P4 低")],
                        default="P3",
                        max_length=2,
                        verbose_name="优先级",
                    ),
                ),
                migrations.AlterField(
                    model_name="complaint",
                    name="product_sku",
                    field=models.CharField(blank=True, max_length=64, verbose_name="SKU"),
                ),
                migrations.AlterField(
                    model_name="complaint",
                    name="province_code",
                    field=models.CharField(blank=True, max_length=6, verbose_name="省级代码"),
                ),
                migrations.AlterField(
                    model_name="complaint",
                    name="status",
                    field=models.CharField(
                        choices=[
                            ("new", "已登记"),
                            ("accepted", "已受理"),
                            ("rejected", "不予受理"),
                            ("in_progress", "处理中"),
                            ("awaiting_consumer", "待投诉人补充"),
                            ("resolution_proposed", "方案待确认"),
                            ("external", "外部程序中"),
                            ("resolved", "已解决"),
                            ("closed", "已结案"),
                            ("reopened", "已重开"),
                            ("withdrawn", "已撤回"),
                            ("archived", "已归档"),
                            ("merged", "已合并"),
                        ],
                        default="new",
                        max_length=30,
                        verbose_name="状态",
                    ),
                ),
                migrations.AddIndex(
                    model_name="complaint",
                    index=models.Index(fields=["complainant_phone_hash"], name="complaint_phone_hash"),
                ),
                migrations.AddIndex(
                    model_name="complaint",
                    index=models.Index(fields=["complainant_email_hash"], name="complaint_email_hash"),
                ),
                migrations.AddIndex(
                    model_name="complaint",
                    index=models.Index(fields=["product_sku"], name="complaint_product_sku"),
                ),
                migrations.AddIndex(
                    model_name="complaint",
                    index=models.Index(fields=["province_code"], name="complaint_province_code"),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, migrations.RunPython.noop)],
        ),
    ]
