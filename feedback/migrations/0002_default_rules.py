"""Sensible default rules, editable by admins afterwards."""

from decimal import Decimal

from django.db import migrations

SURVEY_RULES = [
    # (order, name, score_at_most, when_not_solved, action)
    (10, "问题未解决：重开投诉（超出重开期限则安排回访）", None, True, "reopen"),
    (20, "低分（结果或过程评分 ≤ 2）：安排跟进回访", 2, False, "callback"),
]
CALLBACK_RULES = [
    # (order, name, kind, priorities, percent, seed)
    (10, "P1–P2 投诉全部回访", "priority", ["P1", "P2"], Decimal("0"), ""),
    (20, "有赔偿/补偿的投诉全部回访", "compensation", [], Decimal("0"), ""),
    (30, "其余投诉随机抽查 10%", "sample", [], Decimal("10"), "complaintdesk-callback-1"),
]


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    SurveyRule = apps.get_model("feedback", "SurveyRule")
    CallbackRule = apps.get_model("feedback", "CallbackRule")
    if not SurveyRule.objects.exists():
        for order, name, score, not_solved, action in SURVEY_RULES:
            SurveyRule.objects.create(
                order=order, name=name, score_at_most=score, when_not_solved=not_solved, action=action
            )
    if not CallbackRule.objects.exists():
        for order, name, kind, priorities, percent, rule_seed in CALLBACK_RULES:
            CallbackRule.objects.create(
                order=order, name=name, kind=kind, priorities=priorities, percent=percent, seed=rule_seed
            )


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
