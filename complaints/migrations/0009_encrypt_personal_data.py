"""Encrypt the complainants' existing contact details and fill the look-up hashes of phone and
e-mail (core.fieldcrypt). In batches by id, one transaction each (not atomic as a whole): an
interrupted run resumes, rows already sealed are skipped. Reversible while the keys are configured:
the reverse writes the plain text back."""

from django.db import migrations

from core.fieldcrypt import rewrite_model


def seal(apps, schema_editor):  # type: ignore[no-untyped-def]
    rewrite_model(apps.get_model("complaints", "Complaint"), using=schema_editor.connection.alias)


def unseal(apps, schema_editor):  # type: ignore[no-untyped-def]
    rewrite_model(
        apps.get_model("complaints", "Complaint"), using=schema_editor.connection.alias, plain=True, hashes=False
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("complaints", "0008_personal_data_encrypted")]

    operations = [migrations.RunPython(seal, unseal, elidable=False)]
