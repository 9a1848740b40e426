from typing import Any

from django import template

register = template.Library()


@register.filter
def get(mapping: Any, key: str) -> Any:
    """mapping[key] in a template, '' when absent."""
    if hasattr(mapping, "get"):
        return mapping.get(key, "")
    return ""


@register.filter
def has_role(user: Any, role: str) -> bool:
    """Whether a staff user holds a role (menus only; every view checks access itself)."""
    from complaints.permissions import Principal

    return bool(getattr(user, "is_authenticated", False)) and Principal.of(user).has(role)


@register.filter
def has_any_role(user: Any, roles: str) -> bool:
    """Whether a staff user holds one of the comma-separated roles (menus only)."""
    from complaints.permissions import Principal

    return bool(getattr(user, "is_authenticated", False)) and Principal.of(user).has(*roles.split(","))
