"""The customer table's look-up indexes as plain btrees: `db_index=True` also made, on PostgreSQL, a
varchar_pattern_ops copy of each for LIKE, which nothing uses (every look-up is by equality), and
every new or changed profile paid for it. The copies are dropped and the plain indexes renamed to the
Meta names, found by their columns; nothing is rebuilt, and the reverse leaves them so. The state
operations are what makemigrations wrote (complaints 0011 does the same for the case table)."""


from django.db import migrations, models

import core.fieldcrypt

KEPT = {
    ("phone_hash",): "customer_phone_hash",
    ("email_hash",): "customer_email_hash",
    ("customer_no",): "customer_no",
    ("id_number_hash",): "customer_id_number_hash",
    ("value_tier",): "customer_value_tier",
}
TABLE = "customers_customer"


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
        if columns not in KEPT:
            continue
        if name.endswith("_like"):
            schema_editor.execute(f"DROP INDEX {qn(name)}")
        elif name != KEPT[columns] and KEPT[columns] in present:
            schema_editor.execute(f"DROP INDEX {qn(name)}")  # the kept one exists already: a duplicate
        elif name != KEPT[columns]:
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
        ('customers', '0004_encrypt_personal_data'),
        ('ledger', '0005_fewer_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
        migrations.AlterField(
            model_name='customer',
            name='customer_no',
            field=models.CharField(blank=True, max_length=64, verbose_name='客户编号'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='email_hash',
            field=core.fieldcrypt.LookupHashField(blank=True, db_default='', default='', editable=False, kind='email', max_length=32, source='email'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='id_number_hash',
            field=core.fieldcrypt.LookupHashField(blank=True, db_default='', default='', editable=False, kind='id_number', max_length=32, source='id_number'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='phone_hash',
            field=core.fieldcrypt.LookupHashField(blank=True, db_default='', default='', editable=False, kind='phone', max_length=32, source='phone'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='value_tier',
            field=models.CharField(choices=[('standard', '普通'), ('silver', '银卡'), ('gold', '金卡'), ('vip', 'VIP')], db_default='standard', default='standard', max_length=10, verbose_name='客户等级'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['phone_hash'], name='customer_phone_hash'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['email_hash'], name='customer_email_hash'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['customer_no'], name='customer_no'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['id_number_hash'], name='customer_id_number_hash'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['value_tier'], name='customer_value_tier'),
        ),

            ],
            database_operations=[migrations.RunPython(forwards, migrations.RunPython.noop)],
        ),
    ]
