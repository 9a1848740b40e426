"""Issue 8: the case list's indexes (docs/performance.md, "Case list").

On PostgreSQL the indexes are built CONCURRENTLY: over millions of complaints a plain CREATE INDEX
would hold intake's writes for the minute it takes (about 25 s per index at 1 M complaints here)."""

from django.db import migrations, models
from django.db.migrations.operations import AddIndex


class AddIndexConcurrentlyOnPostgres(AddIndex):
    """AddIndex, CONCURRENTLY on PostgreSQL (the migration is not atomic for that); plain elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.add_index(model, self.index, concurrently=True)
            else:
                schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.remove_index(model, self.index, concurrently=True)
            else:
                schema_editor.remove_index(model, self.index)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("complaints", "0009_encrypt_personal_data")]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="complaint",
            index=models.Index(
                fields=["priority", "channel", "category", "resolution_due_at"], name="complaint_list_filters_due"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="complaint",
            index=models.Index(
                condition=models.Q(
                    status__in=[
                        "accepted",
                        "awaiting_consumer",
                        "external",
                        "in_progress",
                        "new",
                        "reopened",
                        "resolution_proposed",
                    ]
                ),
                fields=["resolution_due_at", "ack_due_at"],
                name="complaint_open_by_due",
            ),
        ),
    ]
