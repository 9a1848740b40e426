from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanStatus(models.TextChoices):
    PROPOSED = "proposed", _("提议")  # written by an analyst; a supervisor or manager opens it
    OPEN = "open", _("待实施")  # agreed, not started
    IN_PROGRESS = "in_progress", _("实施中")  # the owner is carrying out the action
    DONE = "done", _("已完成")  # the action is in place; the effect is measured from completed_at
    CANCELLED = "cancelled", _("已取消")  # dropped, with its history kept


# Plans that can still be late.
ACTIVE_STATES = frozenset({PlanStatus.PROPOSED, PlanStatus.OPEN, PlanStatus.IN_PROGRESS})


class PlanSource(models.TextChoices):
    CASES = "cases", _("选定的投诉")  # a list of tracking numbers
    SPIKE = "spike", _("异常预警")  # the complaints of a spike alert
    SIMILAR = "similar", _("相似案件")  # a case and its similar cases


class PlanAction(models.TextChoices):
    CREATED = "created", _("已创建")
    UPDATED = "updated", _("已修改")
    COMPLETED = "completed", _("已完成")
    OVERDUE_NOTIFIED = "overdue_notified", _("已提醒超期")
