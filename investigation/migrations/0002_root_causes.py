"""The nine root causes of DESIGN.md / issue 5 (admins may rename, reorder, add or deactivate them)."""

from django.db import migrations

ROOT_CAUSES = [
    ("design", "设计", "Design"),
    ("manufacturing", "制造", "Manufacturing"),
    ("material", "材料", "Material"),
    ("service_attitude", "服务态度", "Service attitude"),
    ("process", "流程", "Process"),
    ("communication", "沟通", "Communication"),
    ("policy", "政策", "Policy"),
    ("logistics", "物流", "Logistics"),
    ("consumer_misuse", "消费者误解或使用不当", "Consumer misunderstanding or misuse"),
]


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    RootCause = apps.get_model("investigation", "RootCause")
    for order, (code, name, name_en) in enumerate(ROOT_CAUSES, start=1):
        RootCause.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en, "order": order * 10})


def unseed(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("investigation", "RootCause").objects.filter(code__in=[c for c, _, _ in ROOT_CAUSES]).delete()


class Migration(migrations.Migration):
    dependencies = [("investigation", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
