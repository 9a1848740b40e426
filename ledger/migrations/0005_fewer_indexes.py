"""One index less per ledger event: `complaint_id` alone and a second, non-unique (complaint_id, seq)
index both repeated what the unique (complaint, seq) constraint's index already serves. Every event
(every action on every case, every imported row) paid two index writes for nothing.

The indexes are found by their columns and dropped; the state operations are what makemigrations
wrote (on SQLite its AlterField would rebuild the whole ledger table). The reverse leaves them
dropped."""

import django.db.models.deletion
from django.db import migrations, models


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    connection = schema_editor.connection
    if connection.vendor == "postgresql":  # fail, rather than queue every reader, behind a long query
        schema_editor.execute("SET LOCAL lock_timeout = '10s'")
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "ledger_ledgerevent")
    for name, info in indexes.items():
        if info.get("index") and not info.get("unique") and not info.get("primary_key"):
            if tuple(info["columns"] or ()) in {("complaint_id",), ("complaint_id", "seq")}:
                schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0011_fewer_indexes"),
        ("ledger", "0004_dailydigest_side_chains"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="ledgerevent", name="ledger_ledg_complai_deb765_idx"),
                migrations.AlterField(
                    model_name="ledgerevent",
                    name="complaint",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ledger_events",
                        to="complaints.complaint",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, migrations.RunPython.noop)],
        ),
    ]
