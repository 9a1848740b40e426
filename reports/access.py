"""Who may read reports: the one check the report page, the subscription views and the mailing job
share (a subscriber who loses the role stops receiving)."""

from typing import Any

from accounts.choices import Role
from complaints.permissions import Principal

REPORT_ROLES = (Role.MANAGER, Role.ANALYST, Role.AUDITOR, Role.SUPERVISOR)


def may_read_reports(user: Any) -> bool:
    return bool(user.is_active) and Principal.of(user).has(*REPORT_ROLES)
