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


class Scope(models.TextChoices):
    """What an API token may do; its user's roles still decide which cases and actions (docs/security.md)."""

    READ = "read", _("读取")  # GET on the staff endpoints (cases, evidence, tasks, customers …)
    WRITE = "write", _("写入")  # every other method on the staff endpoints (transitions, notes, remedies …)
    INTAKE = "intake", _("登记投诉")  # POST /api/v1/complaints with the token: register a complaint for a consumer
    ANALYTICS = "analytics", _("统计分析")  # the analytics and report endpoints and the aggregate reads


ALL_SCOPES = tuple(Scope.values)


class SecurityEventKind(models.TextChoices):
    LOGIN = "login", _("登录")  # a session began (password, single sign-on or the admin site)
    LOGIN_FAILED = "login_failed", _("登录失败")  # a wrong username or password
    LOGIN_LOCKED = "login_locked", _("登录锁定")  # too many failures: the username or the address is locked
    LOGOUT = "logout", _("退出")
    SESSION_EXPIRED = "session_expired", _("会话过期")  # idle or past its maximum age
    TWO_FACTOR_PASSED = "two_factor_passed", _("两步验证通过")
    TWO_FACTOR_FAILED = "two_factor_failed", _("两步验证失败")
    TWO_FACTOR_ENROLLED = "two_factor_enrolled", _("启用两步验证")
    TWO_FACTOR_DISABLED = "two_factor_disabled", _("停用两步验证")  # by the user, or reset by an admin
    RECOVERY_CODE_USED = "recovery_code_used", _("使用恢复码")
    RECOVERY_CODES_ISSUED = "recovery_codes_issued", _("生成恢复码")
    TOKEN_ISSUED = "token_issued", _("签发 API 令牌")
    TOKEN_REVOKED = "token_revoked", _("吊销 API 令牌")
    DATA_KEYS_ROTATED = "data_keys_rotated", _("轮换数据密钥")  # rotate_data_keys re-encrypted personal data
