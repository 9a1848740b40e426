"""Who reads the risk assessment and what of it (one place, used by the pages and the API).

Readers are the analytics readers (analytics.access.check_reader: supervisors, managers, analysts,
auditors), scoped like the analytics (analytics.filters.Filters.scoped):
- analysts and auditors, and managers of a top org unit (the whole organisation is theirs), see every
  subject: products, org units and departments;
- other managers see the org units within their units (subtrees), not products or departments, whose
  figures span the whole organisation;
- supervisors see the departments they supervise.
Alerts follow their subject. The high-risk case list is the cases the user may see at all
(Complaint.objects.visible_to). Acknowledging an alert is for readers who act (not auditors, who read
only); the thresholds are configuration: the admin role.
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from analytics.access import check_reader
from analytics.filters import Filters
from complaints.permissions import Principal

from .choices import SubjectKind

__all__ = [
    "check_acknowledger",
    "check_reader",
    "check_threshold_editor",
    "may_acknowledge",
    "may_edit_thresholds",
    "scope_of",
]

ACKNOWLEDGERS = (Role.SUPERVISOR, Role.MANAGER, Role.ANALYST)


@dataclass(frozen=True)
class Scope:
    everything: bool
    unit_paths: tuple[str, ...] = ()
    departments: tuple[int, ...] = ()

    def assessments_q(self, prefix: str = "") -> Q:
        """The RiskAssessment rows (or, with prefix "assessment__", the alerts) inside the scope."""
        if self.everything:
            return Q()
        query = Q(pk__in=[])
        for path in self.unit_paths:
            query |= Q(**{f"{prefix}kind": SubjectKind.ORG_UNIT, f"{prefix}org_unit__path__startswith": path})
        if self.departments:
            query |= Q(**{f"{prefix}kind": SubjectKind.DEPARTMENT, f"{prefix}department_id__in": self.departments})
        return query


def _is_top(path: str) -> bool:
    return path.count("/") == 2  # "/<id>/": a unit without a parent


def scope_of(user: Any) -> Scope:
    today = timezone.localdate()
    filters = Filters(date_from=today, date_to=today).scoped(user)
    if filters.scope_unit_paths is None or any(_is_top(p) for p in filters.scope_unit_paths):
        return Scope(everything=True)
    return Scope(everything=False, unit_paths=filters.scope_unit_paths, departments=filters.scope_departments)


def may_acknowledge(user: Any) -> bool:
    return Principal.of(user).has(*ACKNOWLEDGERS)


def check_acknowledger(user: Any) -> None:
    if not may_acknowledge(user):
        raise PermissionDenied(_("只有主管、经理和分析角色可以确认风险预警（监督角色只读）。"))


def may_edit_thresholds(user: Any) -> bool:
    return Principal.of(user).has(Role.ADMIN)


def check_threshold_editor(user: Any) -> None:
    if not may_edit_thresholds(user):
        raise PermissionDenied(_("风险阈值是系统配置，只有管理员可以修改。"))
