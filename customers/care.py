"""The care rule (关怀规则): a valued customer (tier in COMPLAINTDESK_CARE_TIERS, or a churn-risk
score at or above COMPLAINTDESK_CARE_CHURN_THRESHOLD) with a serious/major or P1/P2 complaint gets a
manager's call, assigned to a manager of the case's org unit (the nearest one up the tree) or else a
supervisor of the case's department, due in COMPLAINTDESK_CARE_DUE_WORKING_DAYS working days
(complaints.calendar). At most one automatic care action per complaint (a unique constraint backs
the check)."""

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import Membership
from complaints.choices import OPEN_STATES

from . import actions, churn, tiers
from .choices import CareKind
from .models import CareAction

TRIGGER_ACTIONS = frozenset({"receive", "accept", "classify"})


def _candidates(complaint: Any) -> list[Any]:
    """The managers of the case's org unit and the units above it, nearest first, then the
    supervisors of its department."""
    found: list[Any] = []
    if complaint.org_unit_id is not None:
        path = complaint.org_unit.path
        managers = [
            m
            for m in Membership.objects.filter(role=Role.MANAGER, org_unit__isnull=False, user__is_active=True)
            .select_related("org_unit", "user")
            .order_by("user_id")
            if path.startswith(m.org_unit.path)
        ]
        found += [m.user for m in sorted(managers, key=lambda m: (-len(m.org_unit.path), m.user_id))]
    if complaint.department_id is not None:
        found += [
            m.user
            for m in Membership.objects.filter(
                role=Role.SUPERVISOR, department_id=complaint.department_id, user__is_active=True
            )
            .select_related("user")
            .order_by("user_id")
        ]
    return found


def responsible_manager(complaint: Any) -> Any:
    """The manager of the case's org unit nearest to it, else a supervisor of its department — the
    first of them who may be given the task (actions.assignee_problem: sees the case and may open
    the profile as a writer); None when nobody may."""
    seen: set[int] = set()
    for user in _candidates(complaint):
        if user.pk in seen:
            continue
        seen.add(user.pk)
        if not actions.assignee_problem(user, complaint.customer, complaint):
            return user
    return None


def why_care(complaint: Any, now: Any = None) -> str | None:
    """The reason the rule fires for this case, or None when it does not."""
    if not (
        complaint.severity in settings.COMPLAINTDESK_CARE_SEVERITIES
        or complaint.priority in settings.COMPLAINTDESK_CARE_PRIORITIES
    ):
        return None
    tier = tiers.tier_of(complaint.customer_id, now)
    if tier.tier in settings.COMPLAINTDESK_CARE_TIERS:
        valued = tier.why
    else:
        risk = churn.churn_of(complaint.customer_id, now)
        if risk.score < settings.COMPLAINTDESK_CARE_CHURN_THRESHOLD:
            return None
        valued = _("流失风险 %(score)d 分") % {"score": risk.score}
    return _("%(valued)s；投诉%(severity)s、%(priority)s") % {
        "valued": valued,
        "severity": complaint.get_severity_display(),
        "priority": complaint.priority,
    }


def apply_rule(complaint_id: int, action: str) -> CareAction | None:
    """Create the automatic care action for a case event when the rule says so (once per case)."""
    from complaints.calendar import add_working_days
    from complaints.ledgering import Actor
    from complaints.models import Complaint

    if not settings.COMPLAINTDESK_CARE_RULE or action not in TRIGGER_ACTIONS:
        return None
    complaint = (
        Complaint.objects.select_related("org_unit", "customer").filter(pk=complaint_id, customer__isnull=False).first()
    )
    if complaint is None or complaint.status not in OPEN_STATES:
        return None  # a case already over by the time the event is handled needs no call about it
    if CareAction.objects.filter(complaint_id=complaint_id, automatic=True).exists():
        return None
    now = timezone.now()
    reason = why_care(complaint, now)
    if reason is None:
        return None
    try:
        with transaction.atomic():
            return actions.create_care_action(
                complaint.customer,
                actor=Actor.system(),
                kind=CareKind.MANAGER_CALL,
                due_at=add_working_days(now, settings.COMPLAINTDESK_CARE_DUE_WORKING_DAYS),
                assignee=responsible_manager(complaint),
                complaint=complaint,
                reason=reason,
                automatic=True,
            )
    except IntegrityError:
        return None  # another worker created it meanwhile
