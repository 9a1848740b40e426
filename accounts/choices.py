from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("客服/投诉专员")  # handles assigned cases of their department
    SUPERVISOR = "supervisor", _("主管")  # oversees the queues of the departments they supervise
    DEPARTMENT_HANDLER = "department_handler", _("责任部门")  # answers coordination tasks
    LEGAL_PR = "legal_pr", _("法务/公关")  # high-risk cases (level 3, legal/media/safety flags)
    MANAGER = "manager", _("经理")  # the cases of their org units, approvals, reports
    ANALYST = "analyst", _("分析")  # reads everything with personal data masked
    AUDITOR = "auditor", _("监督")  # reads everything, read-only
    ADMIN = "admin", _("管理员")  # configuration only; no case content without a case role


# Roles that may change a case (subject to the per-action rules in complaints.permissions).
WRITER_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.DEPARTMENT_HANDLER, Role.LEGAL_PR, Role.MANAGER})
# Roles that read cases; analysts see personal data masked.
CASE_ROLES = WRITER_ROLES | {Role.ANALYST, Role.AUDITOR}


class OrgUnitKind(models.TextChoices):
    COMPANY = "company", _("公司")
    REGION = "region", _("区域")
    STORE = "store", _("门店")
    BRANCH = "branch", _("分支机构")
