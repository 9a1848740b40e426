"""The default authority limits of DESIGN.md §5 (agent 200, supervisor 2,000, manager 20,000 CNY);
above the managers' limit legal/PR and an executive approve (resolutions.authority)."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = {"agent": Decimal("200.00"), "supervisor": Decimal("2000.00"), "manager": Decimal("20000.00")}


def seed(apps, schema_editor):
    AuthorityLimit = apps.get_model("resolutions", "AuthorityLimit")
    for role, limit in DEFAULTS.items():
        if not AuthorityLimit.objects.filter(role=role, org_unit__isnull=True).exists():
            AuthorityLimit.objects.create(role=role, org_unit=None, limit=limit)


def unseed(apps, schema_editor):
    AuthorityLimit = apps.get_model("resolutions", "AuthorityLimit")
    for role, limit in DEFAULTS.items():
        AuthorityLimit.objects.filter(role=role, org_unit__isnull=True, limit=limit).delete()


class Migration(migrations.Migration):
    dependencies = [("resolutions", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
