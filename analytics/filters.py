"""The filters every analytics figure takes, parsed from a query string; errors name the field."""

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.choices import Channel, Priority
from core.errors import ValidationError

KNOWN = ("from", "to", "category", "org_unit", "channel", "priority", "department", "product")
DEFAULT_DAYS = 30


def max_range_days() -> int:
    return int(getattr(settings, "COMPLAINTDESK_ANALYTICS_MAX_RANGE_DAYS", 3 * 366))


@dataclass(frozen=True)
class Filters:
    date_from: date
    date_to: date  # inclusive; both in the organisation's time zone (received date)
    category: str = ""  # a category code, top level or sub-category
    org_unit: int | None = None  # an org unit id; its whole subtree is included
    channel: str = ""
    priority: str = ""
    department: str = ""  # a department code
    product: str = ""  # SKU, else model, else product name (as CaseFact.product)
    # The reader's scope (not from the query string): None = everything; else the org-unit paths a
    # manager holds and the departments a supervisor holds (a case in either is in scope).
    scope_unit_paths: tuple[str, ...] | None = None
    scope_departments: tuple[int, ...] = field(default_factory=tuple)

    @classmethod
    def from_query(cls, params: Any, *, today: date | None = None) -> "Filters":
        """Parse from/to/category/org_unit/channel/priority/department/product. With neither date the
        last DEFAULT_DAYS days up to today; one date alone is an unbounded range and refused."""
        from accounts.models import Department, OrgUnit
        from complaints.models import Category

        errors: dict[str, str] = {}
        for name in params:
            if name not in KNOWN:
                errors[name] = _("未知的查询参数。可用：%(names)s。") % {"names": "、".join(KNOWN)}
        dates: dict[str, date | None] = {}
        for name in ("from", "to"):
            raw = (params.get(name) or "").strip()
            dates[name] = None
            if raw:
                try:
                    value = date.fromisoformat(raw)
                    if not 1900 <= value.year <= 2100:
                        raise ValueError
                    dates[name] = value
                except ValueError:
                    errors[name] = _("应为日期（YYYY-MM-DD）。")
        start, end = dates["from"], dates["to"]
        if "from" not in errors and "to" not in errors:
            if start is None and end is None:
                end = today or timezone.localdate()
                start = end - timedelta(days=DEFAULT_DAYS - 1)
            elif start is None:
                errors["from"] = _("请同时给出开始日期：不接受无起点的时间范围。")
            elif end is None:
                errors["to"] = _("请同时给出结束日期：不接受无终点的时间范围。")
            elif start > end:
                errors["to"] = _("结束日期不能早于开始日期。")
            elif (end - start).days + 1 > max_range_days():
                errors["to"] = _("时间范围最长 %(days)d 天。") % {"days": max_range_days()}
        category = (params.get("category") or "").strip()
        if category and not Category.objects.filter(code=category).exists():
            errors["category"] = _("不在投诉分类中：%(code)s") % {"code": category[:60]}
        org_unit = None
        raw_unit = (params.get("org_unit") or "").strip()
        if raw_unit:
            if raw_unit.isdigit() and OrgUnit.objects.filter(pk=int(raw_unit)).exists():
                org_unit = int(raw_unit)
            else:
                errors["org_unit"] = _("组织单元不存在：%(id)s") % {"id": raw_unit[:20]}
        channel = (params.get("channel") or "").strip()
        if channel and channel not in Channel.values:
            errors["channel"] = _("未知的渠道：%(value)s") % {"value": channel[:40]}
        priority = (params.get("priority") or "").strip()
        if priority and priority not in Priority.values:
            errors["priority"] = _("未知的优先级：%(value)s") % {"value": priority[:10]}
        department = (params.get("department") or "").strip()
        if department and not Department.objects.filter(code=department).exists():
            errors["department"] = _("部门不存在：%(code)s") % {"code": department[:60]}
        product = (params.get("product") or "").strip()
        # Length only: looking the product up before the reader's scope applies would tell anyone
        # whether some case anywhere names it; an unknown product simply matches nothing.
        if len(product) > 200:
            errors["product"] = _("产品最长 200 个字符。")
        if errors:
            raise ValidationError(errors)
        assert start is not None and end is not None
        return cls(
            date_from=start,
            date_to=end,
            category=category,
            org_unit=org_unit,
            channel=channel,
            priority=priority,
            department=department,
            product=product,
        )

    def scoped(self, user: Any) -> "Filters":
        """These filters narrowed to what the user may see (analysts and auditors: everything)."""
        from accounts.choices import Role
        from complaints.permissions import Principal

        principal = Principal.of(user)
        if principal.has(Role.ANALYST, Role.AUDITOR):
            return replace(self, scope_unit_paths=None, scope_departments=())
        paths = tuple(principal.manager_unit_paths) if principal.has(Role.MANAGER) else ()
        departments = tuple(sorted(principal.supervised_departments)) if principal.has(Role.SUPERVISOR) else ()
        return replace(self, scope_unit_paths=paths, scope_departments=departments)

    @property
    def uses_case_only_fields(self) -> bool:
        """Whether a figure must come from CaseFact (department, sub-category and scope by department
        are not dimensions of DailyRollup)."""
        return bool(self.department) or bool(self.scope_departments) or self._is_subcategory

    @property
    def _is_subcategory(self) -> bool:
        from complaints.models import Category

        return bool(self.category) and Category.objects.filter(code=self.category, parent__isnull=False).exists()

    def q(self, *, date_field: str, rollup: bool) -> Q:
        """The filter on CaseFact (rollup=False) or DailyRollup (rollup=True)."""
        from complaints.models import Category

        query = Q(**{f"{date_field}__gte": self.date_from, f"{date_field}__lte": self.date_to})
        if self.category:
            cat = Category.objects.filter(code=self.category).values("pk", "parent_id").first()
            if cat is None:
                query &= Q(pk__in=[])
            elif cat["parent_id"] is None:
                query &= Q(category_id=cat["pk"])
            else:
                query &= Q(subcategory_id=cat["pk"])
        if self.org_unit is not None:
            from accounts.models import OrgUnit

            path = OrgUnit.objects.filter(pk=self.org_unit).values_list("path", flat=True).first() or "\0"
            query &= Q(org_unit__path__startswith=path)
        if self.channel:
            query &= Q(channel=self.channel)
        if self.priority:
            query &= Q(priority=self.priority)
        if self.product:
            query &= Q(product=self.product)
        if self.department:
            query &= Q(department__code=self.department)
        if not rollup:
            query &= Q(merged=False)
        if self.scope_unit_paths is not None:
            scope = Q(pk__in=[])
            for path in self.scope_unit_paths:
                scope |= Q(org_unit__path__startswith=path)
            if self.scope_departments:
                scope |= Q(department_id__in=self.scope_departments)
            query &= scope
        return query
