"""The case page's investigation panel: {% investigation_panel %} in complaints/case.html."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("investigation/_panel.html", takes_context=True)
def investigation_panel(context: dict[str, Any]) -> dict[str, Any]:
    return {}
