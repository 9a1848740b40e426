"""Who reads the analytics: supervisors (their departments), managers (their org units), analysts and
auditors (everything). The scope itself is Filters.scoped (through complaints.permissions.Principal)."""

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.choices import Role
from complaints.permissions import Principal

if TYPE_CHECKING:
    from .filters import Filters

ANALYTICS_ROLES = (Role.SUPERVISOR, Role.MANAGER, Role.ANALYST, Role.AUDITOR)


def check_reader(user: Any) -> None:
    if not Principal.of(user).has(*ANALYTICS_ROLES):
        raise PermissionDenied(_("只有主管、经理、分析和监督角色可以查看统计分析。"))


# Per-person figures (the "owner" dimension) are scorecards: for the person and their supervisors
# (issue 8 item 3), not a ranking for every reader.
SCORECARD_ROLES = (Role.SUPERVISOR, Role.MANAGER)


def scorecard_scope(filters: "Filters", user: Any) -> "Filters":
    """The filters narrowed to the staff the user supervises (departments a supervisor holds, org units
    a manager holds), whatever other role (analyst, auditor) widens the user's usual scope. Raises
    PermissionDenied for readers who supervise nobody."""
    from dataclasses import replace

    principal = Principal.of(user)
    if not principal.has(*SCORECARD_ROLES):
        raise PermissionDenied(_("按处理人统计只对其主管和经理开放。"))
    paths = tuple(principal.manager_unit_paths) if principal.has(Role.MANAGER) else ()
    departments = tuple(sorted(principal.supervised_departments)) if principal.has(Role.SUPERVISOR) else ()
    return replace(filters, scope_unit_paths=paths, scope_departments=departments)
