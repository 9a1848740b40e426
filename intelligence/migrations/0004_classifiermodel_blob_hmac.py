"""Model blobs carry an HMAC keyed by SECRET_KEY, checked before unpickling (intelligence.engine).

Versions stored before this migration are signed here, from their blob as it is in the store now,
with the SECRET_KEY of the process that migrates (run it with the production settings). Not signed,
and so refused until retrained: a blob missing from the store, and a row whose SHA-256 names an
uploaded evidence file (a model row pointed at someone else's pickle is what the HMAC is against).
The HMAC is written out here, not imported, so that this migration keeps doing what it did."""

import hashlib
import hmac

from django.conf import settings
from django.db import migrations, models


def sign_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    from evidence import store

    ClassifierModel = apps.get_model("intelligence", "ClassifierModel")
    Evidence = apps.get_model("evidence", "Evidence")
    key = f"complaintdesk.intelligence.model:{settings.SECRET_KEY}".encode()
    skipped = []
    for model in ClassifierModel.objects.filter(blob_hmac="").only("pk", "blob_sha256").iterator():
        if Evidence.objects.filter(sha256=model.blob_sha256).exists() or not store.exists(model.blob_sha256):
            skipped.append(model.pk)
            continue
        with store.open(model.blob_sha256) as blob:
            mac = hmac.new(key, blob.read(), hashlib.sha256).hexdigest()
        ClassifierModel.objects.filter(pk=model.pk).update(blob_hmac=mac)
    if skipped:
        print(f"\n  intelligence: {len(skipped)} model version(s) not signed (blob missing or an evidence file); retrain them")


class Migration(migrations.Migration):
    dependencies = [("intelligence", "0003_spike_alerts"), ("evidence", "0002_agreement_kind")]

    operations = [
        migrations.AddField(
            model_name="classifiermodel",
            name="blob_hmac",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(sign_existing, migrations.RunPython.noop),
    ]
