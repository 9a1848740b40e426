"""Who may open a customer profile (the rule of docs/customers.md), through complaints.permissions:

- auditors: every profile, unmasked;
- a user who can see at least one of the person's complaints through a working role (agent,
  supervisor, legal/PR, manager; the owner and delegates): that profile, unmasked;
- analysts: every profile, personal data masked;
- department handlers (their scope is a task, not the customer), admins without a case role, and
  everyone else: no. Only "your role never opens profiles" is a 403 (it says nothing about an id);
  a profile this user may not open answers 404 like a missing one (profile_or_404), so that ids
  cannot be probed.
"""

from dataclasses import dataclass, replace

from django.db.models import Q, QuerySet

from accounts.choices import WRITER_ROLES, Role
from complaints.permissions import Principal

from .models import Customer


@dataclass(frozen=True)
class Access:
    allowed: bool
    masked: bool = False
    # May create and work on care actions (a working role that sees one of the person's cases).
    writer: bool = False


def _working(principal: Principal) -> Principal | None:
    """The principal's working roles without the department-handler scope; None when none is left."""
    roles = principal.roles - {Role.DEPARTMENT_HANDLER, Role.ADMIN, Role.AUDITOR, Role.ANALYST}
    if not roles:
        return None
    return replace(principal, roles=principal.roles - {Role.DEPARTMENT_HANDLER}, handler_departments=set())


def case_scope_q(user) -> Q | None:  # type: ignore[no-untyped-def]
    """The cases through which this user reaches customers; None when they reach none that way."""
    working = _working(Principal.of(user))
    return working.scope_q() if working is not None else None


def profile_access(user, customer: Customer) -> Access:  # type: ignore[no-untyped-def]
    from complaints.models import Complaint

    if not user.is_authenticated or not user.is_active:
        return Access(False)
    principal = Principal.of(user)
    scope = case_scope_q(user)
    sees_a_case = scope is not None and Complaint.objects.filter(scope, customer_id=customer.pk).exists()
    writer = sees_a_case and bool((principal.roles - {Role.DEPARTMENT_HANDLER}) & WRITER_ROLES)
    if Role.AUDITOR in principal.roles or sees_a_case:
        return Access(True, masked=False, writer=writer)
    if Role.ANALYST in principal.roles:
        return Access(True, masked=True)
    return Access(False)


def may_search(user) -> bool:  # type: ignore[no-untyped-def]
    """Whether this user's roles ever open profiles (auditor, analyst, a working case role)."""
    principal = Principal.of(user)
    return bool(principal.has(Role.AUDITOR, Role.ANALYST) or _working(principal) is not None)


def profile_or_404(user, pk: int) -> tuple[Customer, Access]:  # type: ignore[no-untyped-def]
    """The profile and this user's access to it. 403 only for a user whose roles never open profiles
    (admin-only, handler-only): that reveals nothing about a given id. A profile they may not open is
    a 404, like one that does not exist, as complaints.permissions.get_complaint_for_user does."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    if not may_search(user):
        raise PermissionDenied
    customer = Customer.objects.filter(pk=pk).first()
    if customer is None:
        raise Http404("customer not found")
    access = profile_access(user, customer)
    if not access.allowed:
        raise Http404("customer not found")
    return customer, access


def may_see_complaint(user, complaint_id: int | None) -> bool:  # type: ignore[no-untyped-def]
    """Whether the case a care action or a survey answer belongs to is visible to this user (True
    for none: such a care action is the profile's, for whoever may open it)."""
    from complaints.models import Complaint

    if complaint_id is None:
        return True
    return Complaint.objects.visible_to(user).filter(pk=complaint_id).exists()


def reachable_customers(user) -> QuerySet[Customer]:  # type: ignore[no-untyped-def]
    """The profiles this user may find in the search list."""
    from complaints.models import Complaint

    principal = Principal.of(user)
    if principal.has(Role.AUDITOR, Role.ANALYST):
        return Customer.objects.all()
    scope = case_scope_q(user)
    if scope is None:
        return Customer.objects.none()
    return Customer.objects.filter(pk__in=Complaint.objects.filter(scope, customer__isnull=False).values("customer_id"))
