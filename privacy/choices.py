"""What a personal-information request (PIPL) is and how it ended."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestKind(models.TextChoices):
    EXPORT = "export", _("查阅复制")  # access and a copy (PIPL art. 45), JSON or PDF
    CORRECT = "correct", _("更正")  # correction (art. 46)
    ERASE = "erase", _("删除")  # erasure / anonymisation (art. 47)


class RequestStatus(models.TextChoices):
    DONE = "done", _("已完成")  # carried out
    REFUSED = "refused", _("已拒绝")  # refused, the reason in `detail` (a legal hold, a retention duty)
