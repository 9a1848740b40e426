"""Model blobs carry an HMAC keyed by SECRET_KEY, checked before unpickling. Versions stored before
this migration are signed here, from their blob as it is in the store now (a blob missing from the
store cannot load anyway and stays unsigned)."""

from django.db import migrations, models


def sign_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    from evidence import store
    from intelligence.engine import signature

    ClassifierModel = apps.get_model("intelligence", "ClassifierModel")
    for model in ClassifierModel.objects.filter(blob_hmac="").only("pk", "blob_sha256").iterator():
        if not store.exists(model.blob_sha256):
            continue
        with store.open(model.blob_sha256) as blob:
            mac = signature(blob.read())
        ClassifierModel.objects.filter(pk=model.pk).update(blob_hmac=mac)


class Migration(migrations.Migration):
    dependencies = [("intelligence", "0003_spike_alerts")]

    operations = [
        migrations.AddField(
            model_name="classifiermodel",
            name="blob_hmac",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(sign_existing, migrations.RunPython.noop),
    ]
