from django.db import models
from django.utils.translation import gettext_lazy as _


class ModelAction(models.TextChoices):
    TRAIN = "train", _("训练")  # a new version stored (not yet active)
    ACTIVATE = "activate", _("启用")  # this version now predicts for its target
    ROLLBACK = "rollback", _("回滚")  # the previous version of the target is active again
    DEACTIVATE = "deactivate", _("停用")  # no version of the target predicts any more


# Targets that map to a field of the case, and so may be applied at intake (the others only suggest).
CASE_TARGETS = ("category", "subcategory", "priority", "department")
# Of those, what `classify` can set on a new case; the department is set by `assign`, which a new
# case cannot take, so a department prediction stays a suggestion.
APPLICABLE_TARGETS = ("category", "subcategory", "priority")
