"""Who may read, create and change plans, and curate the library (one place, used by pages and API)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.choices import CASE_ROLES, Role
from complaints.permissions import Principal

PLAN_READERS = frozenset({Role.MANAGER, Role.SUPERVISOR, Role.ANALYST, Role.AUDITOR})
PLAN_CREATORS = frozenset({Role.MANAGER, Role.SUPERVISOR, Role.ANALYST})
OWNER_ROLES = frozenset({Role.MANAGER, Role.SUPERVISOR})
CURATORS = frozenset({Role.MANAGER, Role.SUPERVISOR})


def plans_visible_to(user: Any) -> QuerySet:
    """Readers see every plan (plans hold no personal data); anyone else only the plans they own."""
    from .models import ImprovementPlan

    principal = Principal.of(user)
    queryset = ImprovementPlan.objects.select_related("owner", "root_cause", "category", "org_unit", "created_by")
    if principal.has(*PLAN_READERS):
        return queryset
    if not principal.roles:
        return queryset.none()
    return queryset.filter(Q(owner_id=user.pk))


def may_read_plans(user: Any) -> bool:
    principal = Principal.of(user)
    return principal.has(*PLAN_READERS) or (bool(principal.roles) and user.improvement_plans.exists())


def may_create(user: Any) -> bool:
    return Principal.of(user).has(*PLAN_CREATORS)


def proposes_only(user: Any) -> bool:
    """Analysts write proposals; a supervisor or manager opens them."""
    return not Principal.of(user).has(*OWNER_ROLES)


def within_scope(principal: Principal, plan: Any) -> bool:
    """A plan is inside a manager's or supervisor's scope when its org unit lies within a unit they
    manage, or when they can act on every case it links (their departments' or their units' cases).
    A plan with neither an org unit nor linked cases is company-wide: no one's by scope."""
    from complaints.models import Complaint

    if plan.org_unit_id and any(plan.org_unit.path.startswith(path) for path in principal.manager_unit_paths):
        return True
    linked = Complaint.objects.filter(pk__in=plan.complaints.values("pk"))
    total = linked.count()
    return bool(total) and linked.filter(principal.scope_q()).count() == total


def may_edit(user: Any, plan: Any) -> bool:
    """The owner; a manager for plans within their units; the creator while it is a proposal, or a
    creating supervisor while its cases are still within their departments."""
    principal = Principal.of(user)
    if plan.owner_id == user.pk:
        return True
    if principal.has(Role.MANAGER) and within_scope(principal, plan):
        return True
    if plan.created_by_id == user.pk:
        if plan.status == "proposed":
            return True
        return principal.has(Role.SUPERVISOR) and within_scope(principal, plan)
    return False


def may_complete(user: Any, plan: Any) -> bool:
    principal = Principal.of(user)
    if plan.owner_id == user.pk:
        return True
    if not principal.has(Role.MANAGER, Role.SUPERVISOR):
        return False
    if principal.has(Role.MANAGER) or plan.created_by_id == user.pk:
        return within_scope(principal, plan)
    return False


def may_read_library(user: Any) -> bool:
    return bool(Principal.of(user).roles & CASE_ROLES)


def may_curate(user: Any) -> bool:
    return Principal.of(user).has(*CURATORS)
