from typing import Any

from django import template

register = template.Library()


@register.filter
def get(mapping: Any, key: str) -> Any:
    """mapping[key] in a template, '' when absent."""
    if hasattr(mapping, "get"):
        return mapping.get(key, "")
    return ""
