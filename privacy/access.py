"""Who may handle personal-information requests (docs/privacy.md, "Who may").

Handling a request (export, correction, erasure) touches everything the organisation holds about a
person, across departments and org units. Legal/PR reach every person: they are the organisation's
contact point for personal-information matters (PIPL art. 50, 52: the organisation must answer a
request whichever unit holds the data), so one role must be able to find and answer anyone. A
manager reaches only the people with at least one case in their own scope (their org units, the
cases they own or hold by delegation): a store manager must not search, export, correct or erase a
stranger from another region. Supervisors are left out on purpose: they already see their own
department's cases unmasked, and a person's whole file across departments is more than their job
needs. Auditors read the request log; nobody else sees any of it.

A person out of a handler's reach is "not found" (404), like a customer that does not exist, so
customer ids cannot be enumerated; 403 is only for roles that may never handle requests."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from complaints.models import Complaint
from complaints.permissions import Principal
from customers.models import Customer

from .models import PrivacyRequest

HANDLER_ROLES = frozenset({Role.LEGAL_PR, Role.MANAGER})
LOG_READER_ROLES = HANDLER_ROLES | {Role.AUDITOR}


def may_handle(user: User) -> bool:
    return bool(user.is_authenticated) and Principal.of(user).has(*HANDLER_ROLES)


def may_read_log(user: User) -> bool:
    return bool(user.is_authenticated) and Principal.of(user).has(*LOG_READER_ROLES)


def check_handle(user: User) -> None:
    if not may_handle(user):
        raise PermissionDenied(_("只有法务/公关或经理可以处理个人信息请求。"))


def check_read_log(user: User) -> None:
    if not may_read_log(user):
        raise PermissionDenied(_("您无权查看个人信息请求记录。"))


def reachable(user: User, customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """The people among `customers` whose requests this handler may answer (see the module doc)."""
    principal = Principal.of(user)
    if not principal.has(*HANDLER_ROLES):
        return customers.none()
    if principal.has(Role.LEGAL_PR):
        return customers
    # A manager: people with at least one case in their working scope (the same rule as the cases
    # they may act on, complaints.permissions.Principal.scope_q; auditor and analyst roles add nothing).
    in_scope = Complaint.objects.filter(principal.scope_q(), customer_id__isnull=False).values("customer_id")
    return customers.filter(pk__in=in_scope)


def customer_for(user: User, customer_id: int) -> Customer:
    """The person, if this user may handle requests about them: PermissionDenied for a role that
    never may, Http404 when the person does not exist or is out of the user's reach."""
    check_handle(user)
    customer = reachable(user, Customer.objects.filter(pk=customer_id)).first()
    if customer is None:
        raise Http404("customer not found")
    return customer


def visible_log(user: User, rows: QuerySet[PrivacyRequest]) -> QuerySet[PrivacyRequest]:
    """The request log rows this user may read: all of them for legal/PR and auditors; for a manager,
    those about the people they reach (a row's reason is free text that may name the person)."""
    principal = Principal.of(user)
    if principal.has(Role.LEGAL_PR, Role.AUDITOR):
        return rows
    return rows.filter(customer__in=reachable(user, Customer.objects.all()))
