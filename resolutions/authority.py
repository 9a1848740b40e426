"""Who may grant how much (DESIGN.md §5): authority limits per role and org unit, the approval chain a
remedy needs, and who may fill each step of it. Reads only; the writes are in resolutions.actions.

The chain, for compensation and goodwill (NEEDS_AUTHORITY) above the proposer's own limit:
- up to the supervisors' limit: one approval by a supervisor of the case's department, or anyone
  whose authority covers the amount (a manager of the case's org unit, an executive);
- up to the managers' limit: one approval by a manager of the case's org unit (or an executive);
- above it, or in a currency other than CNY: two approvals, legal/PR and an executive. An executive
  is a manager of a top-level org unit (the company) that holds the case's unit.
Nobody approves their own proposal, and nobody fills two steps of one remedy.
"""

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Q

from accounts.choices import Role
from accounts.models import Membership, User
from complaints.models import Complaint
from complaints.permissions import Principal

from .choices import DEFAULT_LIMITS, NEEDS_AUTHORITY, LimitRole, Step
from .models import AuthorityLimit, Remedy

UNLIMITED = Decimal("Infinity")


def _unit_ids(complaint: Complaint) -> list[int]:
    """The case's org unit and its ancestors, from the materialised path ("/1/4/9/")."""
    if complaint.org_unit_id is None:
        return []
    return [int(part) for part in complaint.org_unit.path.strip("/").split("/") if part]


def limits_for(complaint: Complaint) -> dict[str, Decimal]:
    """Each role's limit for this case: the row of the case's most specific org unit, else the row
    without an org unit, else the built-in default. One query."""
    units = _unit_ids(complaint)
    depth = {unit: i + 1 for i, unit in enumerate(units)}
    best: dict[str, tuple[int, Decimal]] = {}
    rows = AuthorityLimit.objects.filter(Q(org_unit__isnull=True) | Q(org_unit_id__in=units))
    for row in rows.values_list("role", "org_unit_id", "limit"):
        role, unit, limit = row
        rank = depth.get(unit, 0) if unit is not None else 0
        if role not in best or rank > best[role][0]:
            best[role] = (rank, limit)
    return {role: best[role][1] if role in best else Decimal(DEFAULT_LIMITS[role]) for role in LimitRole.values}


def _manages(principal: Principal, complaint: Complaint) -> bool:
    return complaint.org_unit_id is not None and any(
        complaint.org_unit.path.startswith(path) for path in principal.manager_unit_paths
    )


def is_executive(user: User, complaint: Complaint) -> bool:
    """A manager of a top-level org unit ("/<id>/") that holds the case's unit."""
    principal = Principal.of(user)
    return complaint.org_unit_id is not None and any(
        path.count("/") == 2 and complaint.org_unit.path.startswith(path) for path in principal.manager_unit_paths
    )


def own_limit(user: User, complaint: Complaint, limits: dict[str, Decimal]) -> Decimal:
    """What this user may grant on this case without anyone's approval."""
    principal = Principal.of(user)
    values = [Decimal(0)]
    # An agent's authority is for the cases of their own department (or their own cases).
    if complaint.department_id in principal.agent_departments or complaint.owner_id == user.pk:
        values.append(limits[LimitRole.AGENT])
    if complaint.department_id in principal.supervised_departments:
        values.append(limits[LimitRole.SUPERVISOR])
    if _manages(principal, complaint):
        values.append(limits[LimitRole.MANAGER])
    return max(values)


def approval_limit(user: User, complaint: Complaint, limits: dict[str, Decimal]) -> Decimal:
    """Up to what amount this user may approve someone else's remedy on this case (a single step)."""
    principal = Principal.of(user)
    values = [Decimal(0)]
    if complaint.department_id in principal.supervised_departments:
        values.append(limits[LimitRole.SUPERVISOR])
    if _manages(principal, complaint):
        values.append(limits[LimitRole.MANAGER])
    if is_executive(user, complaint):
        values.append(UNLIMITED)
    return max(values)


def granted_on_case(complaint: Complaint) -> Decimal:
    """Compensation and goodwill (CNY) the case already holds, not rejected or cancelled: limits
    apply to what a case receives in all, so one payment cannot be split under them."""
    from django.db.models import Sum

    from .choices import RemedyStatus

    total = (
        Remedy.objects.filter(complaint=complaint, kind__in=NEEDS_AUTHORITY, currency="CNY")
        .exclude(status__in=[RemedyStatus.REJECTED, RemedyStatus.CANCELLED])
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or Decimal(0)


def required_steps(
    kind: str,
    amount: Decimal | None,
    currency: str,
    proposer_limit: Decimal,
    limits: dict[str, Decimal],
    already: Decimal = Decimal(0),
) -> list[str]:
    """The approvals a new remedy needs, in order; empty when the proposer's authority covers it.
    `already`: what the case holds before this one (the limits apply to the sum)."""
    if kind not in NEEDS_AUTHORITY or not amount:
        return []
    if currency != "CNY":
        return [Step.LEGAL, Step.EXECUTIVE]  # limits are in CNY: no conversion, the top decides
    amount = amount + already
    if amount <= proposer_limit:
        return []
    if amount <= limits[LimitRole.SUPERVISOR]:
        return [Step.SUPERVISOR]
    if amount <= limits[LimitRole.MANAGER]:
        return [Step.MANAGER]
    return [Step.LEGAL, Step.EXECUTIVE]


def may_fill(user: User, step: str, remedy: Remedy, complaint: Complaint, limits: dict[str, Decimal]) -> bool:
    """Whether the user's authority suffices for this step (proposer and repeat checks are separate)."""
    if step in (Step.SUPERVISOR, Step.MANAGER):
        return remedy.amount is not None and approval_limit(user, complaint, limits) >= remedy.amount
    if step == Step.LEGAL:
        return Role.LEGAL_PR in Principal.of(user).roles
    if step == Step.EXECUTIVE:
        return is_executive(user, complaint)
    return False


def open_steps(remedy: Remedy) -> list[str]:
    """Required steps no one has approved yet (approvals prefetched or queried)."""
    done = {a.step for a in remedy.approvals.all() if a.decision == "approve"}
    return [step for step in remedy.required_steps if step not in done]


def step_for(user: User, remedy: Remedy, complaint: Complaint, limits: dict[str, Decimal]) -> str | None:
    """The first open step this user may fill, or None."""
    for step in open_steps(remedy):
        if may_fill(user, step, remedy, complaint, limits):
            return step
    return None


def approvers(remedy: Remedy, complaint: Complaint, limits: dict[str, Decimal]) -> list[User]:
    """Who may fill an open step now (to be told in-app): never the proposer."""
    units = _unit_ids(complaint)
    roles = Q(role=Role.LEGAL_PR) | Q(role=Role.MANAGER, org_unit_id__in=units)
    if complaint.department_id is not None:
        roles |= Q(role=Role.SUPERVISOR, department_id=complaint.department_id)
    candidates: Iterable[User] = User.objects.filter(
        is_active=True, pk__in=Membership.objects.filter(roles).values("user_id")
    ).exclude(pk=remedy.proposed_by_id)
    steps = open_steps(remedy)
    return [u for u in candidates if any(may_fill(u, step, remedy, complaint, limits) for step in steps)]
