"""Value tiers, service-record kinds, care-action kinds and statuses, order sources."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ValueTier(models.TextChoices):
    # From the last 12 months of orders (customers.tiers); thresholds in settings.
    STANDARD = "standard", _("普通")  # below every threshold
    SILVER = "silver", _("银卡")
    GOLD = "gold", _("金卡")
    VIP = "vip", _("VIP")


# Highest first: a customer gets the first tier whose spend or order-count threshold they reach.
TIER_ORDER = (ValueTier.VIP, ValueTier.GOLD, ValueTier.SILVER)


class ServiceKind(models.TextChoices):
    REPAIR = "repair", _("维修")
    INSTALLATION = "installation", _("安装")
    MAINTENANCE = "maintenance", _("保养")
    RETURN = "return", _("退货")
    OTHER = "other", _("其他")


class CareKind(models.TextChoices):
    MANAGER_CALL = "manager_call", _("经理致电")  # what the automatic rule creates
    GIFT = "gift", _("礼品/补偿")
    VISIT = "visit", _("上门拜访")
    OTHER = "other", _("其他")


class CareStatus(models.TextChoices):
    OPEN = "open", _("待办")
    DONE = "done", _("已完成")  # with the note of what was done
    CANCELLED = "cancelled", _("已取消")


class ImportKind(models.TextChoices):
    ORDERS = "orders", _("订单")
    SERVICE = "service", _("服务记录")
