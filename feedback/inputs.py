"""Parsing of the query strings the satisfaction page and API share; errors name the field."""

from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import Department
from complaints.models import Category
from core.errors import ValidationError

from .selectors import Filters

_KNOWN = {"from", "to", "category", "department"}


def parse_filters(params: Any) -> Filters:
    errors: dict[str, str] = {}
    filters = Filters()
    for name in params:
        if name not in _KNOWN:
            errors[name] = _("未知的查询参数。可用：from、to、category、department。")
    for name, attr in (("from", "start"), ("to", "end")):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                value = date.fromisoformat(raw)
                if not 1900 <= value.year <= 2100:
                    raise ValueError
                setattr(filters, attr, value)
            except ValueError:
                errors[name] = _("应为日期（YYYY-MM-DD）。")
    if filters.start and filters.end and filters.start > filters.end:
        errors["to"] = _("结束日期不能早于开始日期。")
    category = (params.get("category") or "").strip()
    if category:
        if not Category.objects.filter(code=category, parent__isnull=True).exists():
            errors["category"] = _("不在投诉分类中：%(code)s") % {"code": category[:60]}
        filters.category = category
    department = (params.get("department") or "").strip()
    if department:
        if not Department.objects.filter(code=department).exists():
            errors["department"] = _("部门不存在：%(code)s") % {"code": department[:60]}
        filters.department = department
    if errors:
        raise ValidationError(errors)
    return filters
