"""A few reply templates (话术) to start from, in Chinese and English; admins edit or replace them.
Placeholders: {name} {tracking_no} {due_date} {remedy}."""

from django.db import migrations

# name, category code (None: any), language, purpose, body
TEMPLATES = [
    (
        "通用书面答复",
        None,
        "zh-hans",
        "reply",
        "{name}您好：\n\n关于您的投诉（编号 {tracking_no}），经调查核实，我们的处理结果如下：{remedy}。\n\n"
        "如您对处理结果有异议，可在收到本答复后 30 日内联系我们申请重新处理，也可向当地消费者协会或 12315 平台反映。"
        "感谢您的监督与支持。",
    ),
    (
        "产品质量答复",
        "product_quality",
        "zh-hans",
        "reply",
        "{name}您好：\n\n您反映的产品质量问题（投诉编号 {tracking_no}）我们已会同质量部门检测核实。"
        "依照《消费者权益保护法》第二十四条，我们为您办理：{remedy}。\n\n"
        "给您带来的不便，我们深表歉意。如对处理结果有异议，可在 30 日内联系我们，或向当地消费者协会、12315 平台反映。",
    ),
    (
        "物流配送答复",
        "delivery",
        "zh-hans",
        "reply",
        "{name}您好：\n\n关于您的包裹配送问题（投诉编号 {tracking_no}），我们已与承运商核实情况，处理结果：{remedy}。"
        "我们已要求承运商改进配送服务。如有疑问，请随时与我们联系。",
    ),
    (
        "General written reply",
        None,
        "en",
        "reply",
        "Dear {name},\n\nThank you for your complaint {tracking_no}. We have looked into it carefully, and this is "
        "what we will do: {remedy}.\n\nIf you disagree with this outcome you may ask us to reconsider within 30 days, "
        "or contact your local consumer association or the 12315 platform.\n\nKind regards",
    ),
    (
        "Product quality reply",
        "product_quality",
        "en",
        "reply",
        "Dear {name},\n\nOur quality team has examined the product you complained about ({tracking_no}). "
        "We are sorry for the trouble it caused. We will provide: {remedy}.\n\n"
        "If you disagree with this outcome you may ask us to reconsider within 30 days.\n\nKind regards",
    ),
    (
        "受理告知（电话）",
        None,
        "zh-hans",
        "contact",
        "致电{name}，告知投诉 {tracking_no} 已受理，由专人负责处理，预计在 {due_date} 前给出处理结果；"
        "核对了联系方式，投诉人表示理解。",
    ),
    (
        "处理方案沟通（电话）",
        None,
        "zh-hans",
        "contact",
        "致电{name}，说明投诉 {tracking_no} 的调查结果及处理方案：{remedy}。投诉人意见：",
    ),
    (
        "满意度回访（电话）",
        None,
        "zh-hans",
        "contact",
        "回访{name}（投诉 {tracking_no}），确认处理结果（{remedy}）已落实。投诉人满意度（1–5 分）：；意见：",
    ),
    (
        "Acknowledgement call",
        None,
        "en",
        "contact",
        "Called {name}: complaint {tracking_no} has been accepted and assigned; we expect to give an outcome "
        "by {due_date}. Contact details confirmed.",
    ),
]


def seed(apps, schema_editor):
    ReplyTemplate = apps.get_model("casework", "ReplyTemplate")
    Category = apps.get_model("complaints", "Category")
    for name, code, language, purpose, body in TEMPLATES:
        category = Category.objects.filter(code=code).first() if code else None
        if code and category is None:
            continue  # the taxonomy was changed before this ran: the template would not fit
        if not ReplyTemplate.objects.filter(name=name, language=language, purpose=purpose).exists():
            ReplyTemplate.objects.create(
                name=name, category=category, language=language, purpose=purpose, body=body, active=True
            )


def unseed(apps, schema_editor):
    ReplyTemplate = apps.get_model("casework", "ReplyTemplate")
    for name, _code, language, purpose, body in TEMPLATES:
        ReplyTemplate.objects.filter(name=name, language=language, purpose=purpose, body=body).delete()


class Migration(migrations.Migration):
    dependencies = [("casework", "0001_initial"), ("complaints", "0003_search_index_and_defaults")]

    operations = [migrations.RunPython(seed, unseed)]
