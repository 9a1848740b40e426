"""Statuses and enums of the investigation: coordination tasks and findings."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TaskKind(models.TextChoices):
    """What a department is asked to do (DESIGN.md §2: coordination tasks)."""

    QUALITY_LAB_TEST = "quality_lab_test", _("质量检测")  # the product sent to the lab
    LOGISTICS_TRACE = "logistics_trace", _("物流追踪")  # where the parcel went, who signed
    BILLING_CHECK = "billing_check", _("账务核查")  # charges, refunds, invoices
    LEGAL_REVIEW = "legal_review", _("法务审核")  # a legal opinion on the claim or the reply
    TECHNICAL_INSPECTION = "technical_inspection", _("技术检验")  # on-site or in-workshop inspection
    OTHER = "other", _("其他")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("进行中")  # waiting for the department's result
    DONE = "done", _("已完成")  # the result is recorded
    CANCELLED = "cancelled", _("已取消")  # no longer needed, with the reason


class Responsibility(models.TextChoices):
    """Who the facts show to be responsible for what the consumer complains of."""

    OURS = "ours", _("本单位")
    SUPPLIER = "supplier", _("供应商")
    CARRIER = "carrier", _("承运商")
    CONSUMER = "consumer", _("消费者")
    UNDETERMINED = "undetermined", _("无法确定")


class FindingStatus(models.TextChoices):
    PENDING = "pending", _("待主管确认")  # unfounded / malicious: not applied until a supervisor confirms
    EFFECTIVE = "effective", _("已生效")  # the case's nature follows it
    REJECTED = "rejected", _("已驳回")  # the supervisor did not confirm it
    SUPERSEDED = "superseded", _("已被取代")  # a later finding took effect


# Natures that need a written justification, evidence and a supervisor's confirmation.
NEEDS_CONFIRMATION = frozenset({"unfounded", "malicious"})
