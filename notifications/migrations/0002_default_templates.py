"""The default message templates of every event, channel and language (notifications.defaults)."""

from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    from notifications.defaults import templates

    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    for event, channel, language, subject, body, active in templates():
        MessageTemplate.objects.get_or_create(
            event=event,
            channel=channel,
            language=language,
            defaults={"subject": subject, "body": body, "active": active},
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
