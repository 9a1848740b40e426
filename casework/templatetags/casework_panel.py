"""The case page's casework panel: {% casework_panel %} in complaints/case.html."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("casework/_panel.html", takes_context=True)
def casework_panel(context: dict[str, Any]) -> dict[str, Any]:
    return {}
