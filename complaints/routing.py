"""Routing at acceptance: rules pick the department, then the least-loaded available agent."""

from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from accounts.choices import Role
from accounts.models import Delegation, Department, User
from core import configcache

from . import calendar
from .choices import OPEN_STATES
from .models import Complaint, RoutingRule


def default_department() -> Department | None:
    return configcache.cached(
        "default_department", lambda: Department.objects.filter(is_default=True).order_by("id").first()
    )


def _matches(rule: RoutingRule, complaint: Complaint) -> bool:
    if rule.category_id and rule.category_id not in (complaint.category_id, complaint.subcategory_id):
        return False
    if rule.product_prefix and not (
        complaint.product_sku.startswith(rule.product_prefix) or complaint.product_model.startswith(rule.product_prefix)
    ):
        return False
    if rule.org_unit_id and not (complaint.org_unit_id and complaint.org_unit.path.startswith(rule.org_unit.path)):
        return False
    if rule.region_prefix:
        code = complaint.district_code or complaint.city_code or complaint.province_code
        if not code.startswith(rule.region_prefix):
            return False
    return not (rule.channel and rule.channel != complaint.channel)


def department_for(complaint: Complaint) -> Department | None:
    rules = RoutingRule.objects.filter(active=True).select_related("org_unit", "department")
    for rule in rules:
        if _matches(rule, complaint):
            return rule.department
    return complaint.department or default_department()


def on_shift(user: User, now: datetime) -> bool:
    local = timezone.localtime(now, timezone.get_default_timezone())
    if not calendar.is_working_day(local.date()):
        return False
    return user.work_start <= local.time() < user.work_end


def pick_owner(department: Department, now: datetime | None = None) -> User | None:
    """The available agent of the department, on shift now, with the fewest open assigned cases."""
    now = now or timezone.now()
    agents = (
        User.objects.filter(
            is_active=True,
            is_available=True,
            memberships__role=Role.AGENT,
            memberships__department=department,
        )
        .annotate(open_cases=Count("owned_complaints", filter=Q(owned_complaints__status__in=OPEN_STATES)))
        .order_by("open_cases", "id")
        .distinct()
    )
    today = timezone.localdate(now, timezone.get_default_timezone())
    away = set(Delegation.active(today).values_list("user_id", flat=True))  # out of office
    for agent in agents:
        if agent.pk not in away and on_shift(agent, now):
            return agent
    return None
