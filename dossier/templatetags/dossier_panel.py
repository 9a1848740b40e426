"""The case page's dossier panel: {% dossier_panel %} in complaints/case.html."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("dossier/_panel.html", takes_context=True)
def dossier_panel(context: dict[str, Any]) -> dict[str, Any]:
    return {}
