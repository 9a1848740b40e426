"""Encrypt the customers' existing contact details and fill their look-up hashes (core.fieldcrypt).

In batches by id, one transaction each (the migration is not atomic as a whole), so that a large
table neither holds one long transaction nor starts again from the beginning after an interruption:
rows already sealed are skipped. Reversible while the keys are configured: the reverse writes the
plain text back (and 0003's reverse then drops the hash columns)."""

from django.db import migrations

from core.fieldcrypt import rewrite_model


def seal(apps, schema_editor):  # type: ignore[no-untyped-def]
    rewrite_model(apps.get_model("customers", "Customer"), using=schema_editor.connection.alias)


def unseal(apps, schema_editor):  # type: ignore[no-untyped-def]
    rewrite_model(
        apps.get_model("customers", "Customer"), using=schema_editor.connection.alias, plain=True, hashes=False
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("customers", "0003_personal_data_encrypted")]

    operations = [migrations.RunPython(seal, unseal, elidable=False)]
