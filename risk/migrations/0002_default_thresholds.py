"""The default band edges of each risk measure (docs/risk.md); admins change them afterwards. The
values are written here, not imported, so that this migration stays what it was."""

from typing import Any

from django.db import migrations

DEFAULTS = {
    "frequency_count": (10, 25, 50, 100),
    "frequency_rate": (1, 3, 10, 30),
    "trend": (-0.1, 0.1, 0.3, 0.6),
    "handling_hours": (8, 24, 48, 80),
    "satisfaction": (0.6, 0.7, 0.8, 0.9),
    "cost_ratio": (0.0005, 0.001, 0.005, 0.01),
    "flagged_share": (0.05, 0.1, 0.2, 0.35),
}


def seed(apps: Any, schema_editor: Any) -> None:
    threshold = apps.get_model("risk", "RiskThreshold")
    for measure, edges in DEFAULTS.items():
        threshold.objects.get_or_create(
            measure=measure, defaults=dict(zip(("edge_1", "edge_2", "edge_3", "edge_4"), edges, strict=True))
        )


class Migration(migrations.Migration):
    dependencies = [("risk", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
