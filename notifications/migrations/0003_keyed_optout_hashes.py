"""Opt-outs keyed by HMAC under SECRET_KEY instead of a plain SHA-256 (notifications.addresses).

Rows that still hold the plain address are recomputed. Rows whose address was erased cannot be (the
old hash cannot be turned back into the address): they keep their old key, which matches no address
any more; docs/notifications.md says so."""

from django.db import migrations


def rekey(apps, schema_editor):  # type: ignore[no-untyped-def]
    from notifications.addresses import address_hash

    OptOut = apps.get_model("notifications", "OptOut")
    for row in OptOut.objects.exclude(address="").order_by("id"):
        digest = address_hash(row.channel, row.address)
        if digest == row.address_hash:
            continue
        if OptOut.objects.filter(channel=row.channel, address_hash=digest, purpose=row.purpose).exists():
            row.delete()  # the same address written differently, opted out twice: one is enough
            continue
        row.address_hash = digest
        row.save(update_fields=["address_hash"])


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_default_templates")]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
