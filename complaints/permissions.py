"""The one permission chokepoint for cases (DESIGN.md §1).

`Complaint.objects.visible_to(user)` is the only way views and the API list or fetch cases;
`get_complaint_for_user` fetches one or raises; `staff_may` says whether a user may take an action.
"""

from dataclasses import dataclass, field
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from accounts.choices import WRITER_ROLES, Role
from accounts.models import User
from core.validation import TRACKING_NO

from .choices import EscalationLevel


@dataclass
class Principal:
    """A staff user's roles and their scopes, read once."""

    user: User
    roles: set[str] = field(default_factory=set)
    agent_departments: set[int] = field(default_factory=set)
    supervised_departments: set[int] = field(default_factory=set)
    handler_departments: set[int] = field(default_factory=set)
    manager_unit_paths: list[str] = field(default_factory=list)
    # Colleagues who are away and whose cases this user works meanwhile (out-of-office delegation).
    delegators: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, user: User) -> "Principal":
        cached = getattr(user, "_complaintdesk_principal", None)
        if cached is not None:
            return cached
        principal = cls(user)
        if user.is_authenticated and user.is_active:
            for m in user.memberships.select_related("org_unit").all():
                principal.roles.add(m.role)
                if m.role == Role.AGENT and m.department_id:
                    principal.agent_departments.add(m.department_id)
                elif m.role == Role.SUPERVISOR and m.department_id:
                    principal.supervised_departments.add(m.department_id)
                elif m.role == Role.DEPARTMENT_HANDLER and m.department_id:
                    principal.handler_departments.add(m.department_id)
                elif m.role == Role.MANAGER and m.org_unit_id:
                    principal.manager_unit_paths.append(m.org_unit.path)
            if principal.roles:
                from accounts.models import Delegation

                principal.delegators = set(Delegation.active().filter(delegate=user).values_list("user_id", flat=True))
        user._complaintdesk_principal = principal  # type: ignore[attr-defined]
        return principal

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_writer(self) -> bool:
        return bool(self.roles & WRITER_ROLES)

    @cached_property
    def sees_everything(self) -> bool:
        return self.has(Role.AUDITOR, Role.ANALYST)

    def masked_for(self, complaint) -> bool:  # type: ignore[no-untyped-def]
        """Analysts see personal data masked, unless the case is inside the scope of another role of
        theirs (or they are also auditors)."""
        return Role.ANALYST in self.roles and Role.AUDITOR not in self.roles and not self.in_scope(complaint)

    def in_scope(self, complaint) -> bool:  # type: ignore[no-untyped-def]
        """Whether the case falls inside the user's working roles (auditor and analyst left out);
        the same rule as scope_q, for one case already in memory."""
        if not self.roles - {Role.AUDITOR, Role.ANALYST, Role.ADMIN}:
            return False
        departments = self.agent_departments | self.supervised_departments | self.handler_departments
        return (
            complaint.owner_id == self.user.pk
            or complaint.owner_id in self.delegators
            or complaint.department_id in departments
            or (
                complaint.org_unit_id is not None
                and any(complaint.org_unit.path.startswith(path) for path in self.manager_unit_paths)
            )
            or (
                Role.LEGAL_PR in self.roles
                and (
                    complaint.escalation_level == EscalationLevel.CRISIS
                    or complaint.risk_legal_media_safety
                    or complaint.shares.filter(user_id=self.user.pk).exists()
                )
            )
        )

    def can_see(self, complaint) -> bool:  # type: ignore[no-untyped-def]
        return self.sees_everything or self.in_scope(complaint)

    def scope_q(self) -> Q:
        """The cases inside the user's working roles: the ones they may act on."""
        from .models import CaseShare

        query = Q(pk__in=[])
        if not self.roles - {Role.AUDITOR, Role.ANALYST, Role.ADMIN}:
            return query
        uid = self.user.pk
        query |= Q(owner_id=uid)
        if self.delegators:
            query |= Q(owner_id__in=self.delegators)
        departments = self.agent_departments | self.supervised_departments | self.handler_departments
        if departments:
            query |= Q(department_id__in=departments)
        for path in self.manager_unit_paths:
            query |= Q(org_unit__path__startswith=path)
        if Role.LEGAL_PR in self.roles:
            query |= Q(escalation_level=EscalationLevel.CRISIS) | Q(risk_legal_media_safety=True)
            # A subquery, not a join: a case shared with several people must not come back twice.
            query |= Q(pk__in=CaseShare.objects.filter(user_id=uid).values("complaint_id"))
        return query

    def visible_q(self) -> Q | None:
        """A filter for the cases this user may read; None means all of them."""
        return None if self.sees_everything else self.scope_q()


def visible_to(queryset, user: User):  # type: ignore[no-untyped-def]
    principal = Principal.of(user)
    if not principal.roles:
        return queryset.none()
    query = principal.visible_q()
    return queryset if query is None else queryset.filter(query)


def get_complaint_for_user(user: User, tracking_no: str, *, write: bool = False, for_update: bool = False):  # type: ignore[no-untyped-def]
    """The case if this user may see it (404 otherwise, so existence does not leak); with write=True
    a read-only user gets PermissionDenied."""
    from .models import Complaint

    if not TRACKING_NO.fullmatch(tracking_no):
        raise Http404("complaint not found")
    queryset = Complaint.objects.visible_to(user)
    if for_update:
        queryset = queryset.select_for_update()
    complaint = queryset.filter(tracking_no=tracking_no).first()
    if complaint is None:
        raise Http404("complaint not found")
    if write:
        principal = Principal.of(user)
        if not principal.is_writer or not principal.in_scope(complaint):
            raise PermissionDenied("read-only role")
    return complaint


def staff_may(user: User, complaint, action: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether a staff user may take `action` on a case they can see (state is checked elsewhere)."""
    p = Principal.of(user)
    if not p.is_writer or not p.in_scope(complaint):
        return False
    owner = complaint.owner_id == user.pk or complaint.owner_id in p.delegators
    dept = complaint.department_id
    manages = complaint.org_unit_id is not None and any(
        complaint.org_unit.path.startswith(path) for path in p.manager_unit_paths
    )
    supervises = dept in p.supervised_departments or manages
    agent_here = dept in p.agent_departments
    legal = Role.LEGAL_PR in p.roles
    if action in {"accept", "reject"}:
        return supervises if complaint.appealed else (agent_here or owner or supervises)
    if action in {"assign", "archive", "de_escalate"}:
        return supervises
    if action == "share":
        return owner or supervises
    if action in {"route_external", "record_external_outcome"}:
        return owner or supervises or legal
    if action == "escalate":
        return owner or agent_here or supervises or legal
    if action in {"add_note", "add_evidence"}:
        return True
    if action == "set_legal_hold":
        return legal or supervises
    if action == "delete_evidence":
        return supervises
    if action in {"merge", "absorb", "dismiss_duplicate"}:
        return owner or agent_here or supervises
    if action == "classify":
        return owner or agent_here or supervises
    # remedies: the amount rules (authority limits, the approval chain) are in resolutions.authority
    if action == "add_remedy":
        return owner or agent_here or supervises or legal
    if action in {"mark_remedy_paid", "cancel_remedy"}:
        return owner or agent_here or supervises
    if action in {"approve_remedy", "reject_remedy"}:
        return supervises or legal
    # --- casework (contacts, reply templates, the written reply): begin ---
    # Legal/PR talk to lawyers, regulators and the press on the cases they see: they log contacts, but
    # the written reply is the handling team's.
    if action == "add_contact":
        return owner or agent_here or supervises or legal
    if action == "send_reply":
        return owner or agent_here or supervises
    # --- casework: end ---
    # --- investigation (coordination tasks, findings): begin ---
    # The case's handling team asks departments for tasks and records findings. The task's own
    # department and assignee reach their task through investigation.access.may_on_task (which falls
    # back to this function), never the rest of the case. Confirming an unfounded or malicious
    # finding is a supervisor's (or a manager's above), never the author's (investigation.actions).
    if action in {"create_task", "cancel_task", "reassign_task", "record_finding"}:
        return owner or agent_here or supervises
    if action == "complete_task":
        return owner or supervises
    if action in {"confirm_finding", "reject_finding"}:
        return supervises
    # --- investigation: end ---
    # --- negotiation (resolutions: offers, counter-offers, settlement agreement): begin ---
    # A counter-offer is the consumer's own word (status page, API); an offer expires by the clock.
    if action in {"counter_offer", "expire_offer"}:
        return False
    # Who may propose may withdraw; legal/PR may (re)generate the agreement of a case they see.
    if action == "withdraw_offer":
        return owner or supervises
    if action == "settlement_agreement":
        return owner or supervises or legal
    # --- negotiation: end ---
    # --- dossier (external routes, case dossier, crisis): begin ---
    # (route_external / record_external_outcome: owner, supervisor or legal/PR, above)
    if action == "add_external_document":
        return owner or agent_here or supervises or legal
    # The dossier holds every piece of personal data of the case: those answerable for the case.
    if action == "export_dossier":
        return owner or supervises or legal
    if action in {"verify_crisis_facts", "draft_crisis_statement", "log_media_contact"}:
        return owner or supervises or legal
    # The statement is approved by legal/PR only (dossier.crisis refuses the drafter's own approval).
    if action == "approve_crisis_statement":
        return legal
    if action == "confirm_media_contacts":
        return supervises or legal
    # --- dossier: end ---
    # start_work, wait_for_consumer, resume, propose_resolution, resolve, close, reopen, withdraw,
    # accept_proposal / refuse_proposal recorded on the consumer's behalf
    return owner or supervises
